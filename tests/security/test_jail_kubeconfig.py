"""The jail's kubeconfig rules, without a cluster: the lab loads its own kubeconfigs only
without plugins, file references or a foreign owner, takes only a valid namespace from the
learner's, never through a symlink, a FIFO or a file of someone else's, and writes a kubeconfig
for the jail from embedded credentials only."""
import os

import pytest
import yaml

from sandboxes.jail import kubeconfig
from sandboxes.jail.kubeconfig import KubeconfigRefused

ADMIN = {
    "apiVersion": "v1", "kind": "Config", "current-context": "kwok",
    "clusters": [{"name": "kwok", "cluster": {"server": "https://127.0.0.1:32001",
                                              "certificate-authority-data": "Q0E="}}],
    "users": [{"name": "admin", "user": {"client-certificate-data": "Q0VSVA==",
                                         "client-key-data": "S0VZ"}}],
    "contexts": [{"name": "kwok", "context": {"cluster": "kwok", "user": "admin"}}],
}


def write(path, data, mode=0o600):
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    os.chmod(path, mode)
    return path


def with_user(**fields):
    config = yaml.safe_load(yaml.safe_dump(ADMIN))
    config["users"][0]["user"].update(fields)
    return config


def test_the_lab_loads_its_own_kubeconfig(tmp_path):
    config = kubeconfig.load_lab_file(write(tmp_path / "k", ADMIN))
    assert kubeconfig.api_endpoint(config) == ("127.0.0.1", 32001)


@pytest.mark.parametrize("field,value", [
    ("exec", {"command": "/bin/sh", "apiVersion": "client.authentication.k8s.io/v1"}),
    ("auth-provider", {"name": "oidc"}), ("tokenFile", "/etc/shadow"),
    ("client-key", "/root/key.pem"), ("as", "system:admin")])
def test_a_plugin_a_file_reference_or_impersonation_is_refused_by_name(tmp_path, field, value):
    path = write(tmp_path / "k", with_user(**{field: value}))
    with pytest.raises(KubeconfigRefused, match=rf"users\[0\]\.user\.{field} is not allowed"):
        kubeconfig.load_lab_file(path)


def test_a_cluster_ca_file_or_proxy_is_refused(tmp_path):
    config = yaml.safe_load(yaml.safe_dump(ADMIN))
    config["clusters"][0]["cluster"]["proxy-url"] = "http://127.0.0.1:6379"
    with pytest.raises(KubeconfigRefused, match=r"clusters\[0\]\.cluster\.proxy-url"):
        kubeconfig.load_lab_file(write(tmp_path / "k", config))


def test_a_lab_kubeconfig_others_may_change_or_reached_by_symlink_is_refused(tmp_path):
    with pytest.raises(KubeconfigRefused, match="may be changed by others"):
        kubeconfig.load_lab_file(write(tmp_path / "k", ADMIN, 0o666))
    os.symlink(write(tmp_path / "real", ADMIN), tmp_path / "link")
    with pytest.raises(KubeconfigRefused, match="symbolic link"):
        kubeconfig.load_lab_file(tmp_path / "link")


def test_the_jails_kubeconfig_has_embedded_credentials_only_and_the_namespace():
    written = yaml.safe_load(kubeconfig.for_jail(with_user(token="t"), "staging"))
    assert written["clusters"][0]["cluster"] == {"server": "https://127.0.0.1:6443",
                                                 "certificate-authority-data": "Q0E="}
    assert written["users"][0]["user"] == {"client-certificate-data": "Q0VSVA==",
                                           "client-key-data": "S0VZ", "token": "t"}
    assert written["contexts"][0]["context"]["namespace"] == "staging"
    assert written["current-context"] == "kwok"


def learner_home(tmp_path, text=None):
    (tmp_path / ".kube").mkdir()
    if text is not None:
        write(tmp_path / ".kube" / "config", text)
    return tmp_path


def test_only_the_current_namespace_is_taken_from_the_learners_kubeconfig(tmp_path):
    config = with_user(exec={"command": "/bin/sh"})
    config["contexts"].append({"name": "mine", "context": {"cluster": "kwok", "user": "admin",
                                                           "namespace": "staging"}})
    config["current-context"] = "mine"
    home = learner_home(tmp_path, config)
    assert kubeconfig.learner_namespace(home, os.geteuid()) == "staging"


def test_no_kubeconfig_or_no_namespace_means_default(tmp_path):
    assert kubeconfig.learner_namespace(tmp_path, os.geteuid()) == "default"
    home = learner_home(tmp_path, ADMIN)
    assert kubeconfig.learner_namespace(home, os.geteuid()) == "default"


@pytest.mark.parametrize("namespace", ["Bad_Name", "x" * 64, "-lead", "a/b", 42])
def test_an_impossible_namespace_is_refused_by_value(tmp_path, namespace):
    config = yaml.safe_load(yaml.safe_dump(ADMIN))
    config["contexts"][0]["context"]["namespace"] = namespace
    home = learner_home(tmp_path, config)
    with pytest.raises(KubeconfigRefused, match="not a valid namespace name"):
        kubeconfig.learner_namespace(home, os.geteuid())


def test_a_symlink_a_fifo_a_foreign_or_huge_file_is_never_read(tmp_path):
    home = learner_home(tmp_path)
    config = home / ".kube" / "config"
    os.symlink("/etc/passwd", config)
    with pytest.raises(KubeconfigRefused, match="symbolic link"):
        kubeconfig.learner_namespace(home, os.geteuid())
    config.unlink()
    os.mkfifo(config)  # a reader that blocked here would hang the lab
    with pytest.raises(KubeconfigRefused, match="not a regular file"):
        kubeconfig.learner_namespace(home, os.geteuid())
    config.unlink()
    write(config, ADMIN)
    with pytest.raises(KubeconfigRefused, match="belongs to uid"):
        kubeconfig.learner_namespace(home, os.geteuid() + 1)
    write(config, "x" * (kubeconfig.MAX_BYTES + 1))
    with pytest.raises(KubeconfigRefused, match="larger than"):
        kubeconfig.learner_namespace(home, os.geteuid())


def test_a_symlinked_kube_directory_is_never_followed(tmp_path):
    target = tmp_path / "elsewhere"
    target.mkdir()
    learner_home(target, ADMIN)
    home = tmp_path / "home"
    home.mkdir()
    os.symlink(target / ".kube", home / ".kube")
    with pytest.raises(KubeconfigRefused, match="not a directory"):
        kubeconfig.learner_namespace(home, os.geteuid())


def test_yaml_that_does_not_parse_is_refused_with_its_line(tmp_path):
    home = learner_home(tmp_path, "contexts: [\n  {name: a\n")
    with pytest.raises(KubeconfigRefused, match=r"not valid YAML \(line \d+\)"):
        kubeconfig.learner_namespace(home, os.geteuid())
