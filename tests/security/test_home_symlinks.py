"""Issue item 5: the lab never follows a learner's symlink out of their home. The learner points
~/.kube, ~/.bashrc or an asset's path at a root-owned place outside the home, through the real
terminal; a new terminal (which writes their kubeconfig and bashrc) and the course-asset copy
then change nothing there. And the sandbox's directory and home are closed to other uids."""
import asyncio
import os
import stat

import pytest

from sandboxes import inspect
from tests.security.jail_support import (  # noqa: F401
    end_terminal,
    layout_of,
    other_sandbox,
    plain,
    victim_dir,
    victim_state,
)
from tests.terminal.wsclient import Term

pytestmark = [pytest.mark.cluster, pytest.mark.asyncio]


async def test_a_new_terminal_never_writes_through_the_learners_symlinks(owner, ready_sandbox,
                                                                        victim_dir):
    before = victim_state(victim_dir)
    term = await Term.open(owner, ready_sandbox.id)
    await term.control_message("hello")
    # Inside the jail these point nowhere; on the host they would be the victim directory.
    await term.run(f"rm -rf ~/.kube ~/.bashrc && ln -s {victim_dir} ~/.kube && "
                   f"ln -s {victim_dir}/bashrc ~/.bashrc && ln -s {victim_dir} ~/everything",
                   "links")
    await term.close()
    await end_terminal(ready_sandbox)

    term = await Term.open(owner, ready_sandbox.id)  # prepares the jail again
    await term.control_message("hello")
    out = plain(await term.run("echo shell-$((40+2)); ls -l ~/.kube | cut -c1", "again"))
    assert "shell-42" in out
    assert victim_state(victim_dir) == before
    assert (victim_dir / "keep").stat().st_uid == 0
    await term.close()


async def test_course_assets_never_land_outside_the_home(owner, ready_sandbox, victim_dir, tmp_path):
    assets = tmp_path / "assets"
    (assets / "notes").mkdir(parents=True)
    (assets / "notes" / "readme.txt").write_text("read me\n")
    (assets / "top.txt").write_text("top\n")
    (assets / "keep").write_text("an asset called keep\n")
    (assets / "fresh" / "deep").mkdir(parents=True)
    (assets / "fresh" / "deep" / "file.sh").write_text("echo hi\n")
    os.chmod(assets / "fresh" / "deep" / "file.sh", 0o755)
    before = victim_state(victim_dir)
    term = await Term.open(owner, ready_sandbox.id)
    await term.control_message("hello")
    await term.run(f"ln -s {victim_dir} ~/notes && ln -s {victim_dir}/top.txt ~/top.txt && "
                   f"ln -s {victim_dir}/keep ~/keep", "links")

    copied = await asyncio.to_thread(inspect.copy_into_home, ready_sandbox, assets)

    assert victim_state(victim_dir) == before
    assert (victim_dir / "keep").read_text() == "the lab's\n"
    home = layout_of(ready_sandbox).home
    script = home / "fresh" / "deep" / "file.sh"
    assert script.read_text() == "echo hi\n" and os.stat(script).st_mode & 0o777 == 0o755
    assert script.stat().st_uid == layout_of(ready_sandbox).uid
    assert copied == 1  # the learner's three symlinks are theirs: skipped, never followed
    out = plain(await term.run("ls -l ~/top.txt | cut -c1; bash ~/fresh/deep/file.sh", "after"))
    assert "\nl\n" in out and "\nhi\n" in out
    await term.close()


async def test_the_sandbox_directory_and_home_are_closed_to_other_uids(owner, ready_sandbox):
    term = await Term.open(owner, ready_sandbox.id)
    await term.control_message("hello")
    await term.run("echo private > ~/diary", "wrote")
    layout = layout_of(ready_sandbox)
    root, home = os.stat(layout.root), os.stat(layout.home)
    assert (root.st_uid, stat.S_IMODE(root.st_mode)) == (0, 0o711)
    assert (home.st_uid, stat.S_IMODE(home.st_mode)) == (layout.uid, 0o700)
    if os.geteuid() == 0:
        # Another sandbox's uid (or any other) cannot list or read it.
        import subprocess
        result = subprocess.run(["cat", str(layout.home / "diary")], capture_output=True, text=True,
                                user=layout.uid + 1, group=layout.uid + 1, extra_groups=[])
        assert result.returncode != 0 and "Permission denied" in result.stderr
    await term.close()
