import pytest

from tests.sandboxes.helpers import stop_all_and_wait


@pytest.fixture
def clean_clusters(transactional_db, celery_worker):
    """Real clusters for a test, and none of them left behind after it."""
    yield
    stop_all_and_wait()
