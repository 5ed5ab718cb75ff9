"""The deploy tests talk to the lab the way an operator's users do, through a compose stack of
its own (tests/deploy/stack.py): they need none of the in-process session's machinery."""
import pytest


@pytest.fixture(scope="session", autouse=True)
def collected_static():
    """The images collect their own static files; nothing to collect here."""


@pytest.fixture(scope="session", autouse=True)
def redis_server():
    """The stack runs its own Redis; the test session's is not needed."""


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed deploy test shows what the stack's containers said."""
    outcome = yield
    report = outcome.get_result()
    stack = getattr(item, "funcargs", {}).get("stack")
    if report.failed and stack is not None:
        report.sections.append(("docker compose logs", stack.logs()))
