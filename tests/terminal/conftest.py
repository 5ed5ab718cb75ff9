"""The terminal tests use api_cluster and ready_sandbox from tests/conftest.py."""
