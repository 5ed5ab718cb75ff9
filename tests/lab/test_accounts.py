import re

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_it_signs_up_and_logs_the_learner_in(client, password):
    response = client.post(reverse("signup"), {"username": "bob", "email": "Bob@Example.com",
                                               "password1": password, "password2": password})
    assert response.status_code == 302
    user = User.objects.get(username="bob")
    assert user.email == "bob@example.com"
    assert int(client.session["_auth_user_id"]) == user.pk


def test_sign_up_explains_what_is_wrong(client):
    response = client.post(reverse("signup"), {"username": "bob", "email": "not-an-email",
                                               "password1": "a", "password2": "b"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Enter a valid email address." in body
    assert "The two password fields didn" in body


def test_an_e_mail_address_is_used_once(client, owner, password):
    response = client.post(reverse("signup"), {"username": "alice2", "email": "ALICE@example.com",
                                               "password1": password, "password2": password})
    assert "already exists" in response.content.decode()


def test_it_logs_in_and_out(client, owner, password):
    response = client.post(reverse("login"), {"username": "alice", "password": password})
    assert response.status_code == 302
    assert client.get(reverse("catalog")).context["user"].is_authenticated
    client.post(reverse("logout"))
    assert not client.get(reverse("catalog")).context["user"].is_authenticated


def test_a_wrong_password_is_refused(client, owner):
    response = client.post(reverse("login"), {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_password_reset_sends_a_working_link(client, owner):
    client.post(reverse("password_reset"), {"email": "alice@example.com"})
    assert len(mail.outbox) == 1
    link = re.search(r"http://\S+", mail.outbox[0].body).group(0)
    path = link.split("testserver", 1)[1]
    response = client.get(path, follow=True)
    assert response.status_code == 200
    response = client.post(response.redirect_chain[-1][0],
                           {"new_password1": "a-new-long-passphrase-9", "new_password2": "a-new-long-passphrase-9"})
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password("a-new-long-passphrase-9")


def test_the_instructors_group_exists():
    from django.contrib.auth.models import Group

    assert Group.objects.filter(name="instructors").exists()


def test_the_admin_is_for_staff_only(client, owner):
    client.force_login(owner)
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
