"""Every ?next= the lab follows stays on the lab: sign-up, log-in and log-out."""
import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

FOREIGN = ["//other.example", "//other.example/accounts/", "https://other.example/",
           "http://other.example", "/\\other.example", "\\\\other.example", "///other.example",
           "javascript:alert(1)", " //other.example", "https:other.example"]
LESSON = "/courses/kubernetes-architecture/control-plane/"


def _sign_up(client, password, next_url, username="bob", **extra):
    return client.post(reverse("signup") + "?" + _query(next_url),
                       {"username": username, "email": f"{username}@example.com",
                        "password1": password, "password2": password}, **extra)


def _query(next_url):
    from urllib.parse import urlencode
    return urlencode({"next": next_url})


@pytest.mark.parametrize("target", FOREIGN)
def test_sign_up_never_follows_next_off_the_site(client, password, target):
    response = _sign_up(client, password, target)
    assert response.status_code == 302
    assert response["Location"] == reverse("catalog")


def test_sign_up_follows_a_next_on_the_site(client, password):
    response = _sign_up(client, password, LESSON)
    assert response["Location"] == LESSON


def test_a_signed_in_learner_on_the_sign_up_page_is_not_sent_away(client, owner):
    client.force_login(owner)
    response = client.get(reverse("signup") + "?" + _query("//other.example"))
    assert response["Location"] == reverse("catalog")


def test_with_https_on_a_plain_http_next_is_refused(client, password, settings):
    settings.HTTPS = True
    secure = {"secure": True}
    response = _sign_up(client, password, "http://testserver/courses/", **secure)
    assert response["Location"] == reverse("catalog")
    response = _sign_up(client, password, "https://testserver/courses/", username="carol", **secure)
    assert response["Location"] == "https://testserver/courses/"


def test_the_sign_up_page_hands_only_a_safe_next_to_the_log_in_link(client):
    page = client.get(reverse("signup") + "?" + _query(LESSON)).content.decode()
    assert f'href="{reverse("login")}?next=/courses/kubernetes-architecture/control-plane/"' \
        in page.replace("%2F", "/")
    page = client.get(reverse("signup") + "?" + _query("//other.example")).content.decode()
    assert "other.example" not in page


@pytest.mark.parametrize("target", FOREIGN[:4])
def test_log_in_and_log_out_never_follow_next_off_the_site(client, owner, password, target):
    response = client.post(reverse("login") + "?" + _query(target),
                           {"username": owner.username, "password": password})
    assert response.status_code == 302 and "other.example" not in response["Location"]
    page = client.get(reverse("login") + "?" + _query(target)).content.decode()
    assert "other.example" not in page  # neither the hidden field nor the sign-up link
    response = client.post(reverse("logout") + "?" + _query(target))
    assert response.status_code == 302 and "other.example" not in response["Location"]
