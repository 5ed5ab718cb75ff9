"""A learner's browser, reduced to HTTP: a cookie jar, Django's CSRF token, the sign-up and log-in
forms, and the JSON endpoints the lab's pages call (start a lab, its status, Check, a lesson's
status). It speaks to a running site by URL, nothing in-process."""
from __future__ import annotations

import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request

from tests.processes import WaitFailed, wait_for

CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Site:
    def __init__(self, url: str):
        self.url = url
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.cookies if c.name == name), None)

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str, str]:
        """(status, final URL, body); a 4xx/5xx answer is returned, not raised."""
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        if method == "POST" and self.cookie("csrftoken"):
            request.add_header("X-CSRFToken", self.cookie("csrftoken"))
            request.add_header("Referer", self.url + "/")
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.url, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.url, exc.read().decode(errors="replace")

    def json(self, method: str, path: str, form: dict | None = None, expect=(200, 201)) -> dict:
        status, _, body = self.request(method, path, form)
        assert status in expect, f"{method} {path}: {status} {body[:500]}"
        return json.loads(body)

    def submit(self, path: str, fields: dict) -> tuple[int, str, str]:
        """GET the form's page (for the CSRF cookie and token), then POST the form."""
        status, _, page = self.request("GET", path)
        assert status == 200, f"GET {path}: {status}"
        token = CSRF_FIELD.search(page)
        assert token, f"no CSRF token in {path}"
        return self.request("POST", path, {"csrfmiddlewaretoken": token.group(1), **fields})

    def sign_up(self, username: str, password: str) -> None:
        status, final, body = self.submit("/accounts/signup/", {
            "username": username, "email": f"{username}@example.com",
            "password1": password, "password2": password})
        assert status == 200 and not final.endswith("/accounts/signup/"), \
            f"sign-up refused ({status}, at {final}): {body[:800]}"
        assert self.cookie("sessionid"), "signed up but not logged in"

    def log_in(self, username: str, password: str) -> None:
        status, final, body = self.submit("/accounts/login/", {"username": username,
                                                               "password": password})
        assert status == 200 and "/accounts/login/" not in final, \
            f"log-in refused ({status}, at {final}): {body[:800]}"

    def start_lab(self, course: str, lesson: str, tier: str = "api") -> dict:
        return self.json("POST", "/sandboxes/start/", {"tier": tier, "course": course,
                                                       "lesson": lesson})

    def sandbox(self, sandbox_id: str) -> dict:
        return self.json("GET", f"/sandboxes/{sandbox_id}/")

    def wait_ready(self, sandbox_id: str, timeout: float = 240) -> dict:
        def ready():
            state = self.sandbox(sandbox_id)
            if state["state"] == "failed":
                raise WaitFailed(f"the lab failed: {state}")  # no use waiting any longer
            return state if state["state"] == "ready" else None
        return wait_for(ready, timeout, f"sandbox {sandbox_id} to be ready", interval=1.0)

    def check(self, course: str, lesson: str, exercise: str) -> dict:
        return self.json("POST", f"/courses/{course}/{lesson}/exercises/{exercise}/check/", {})

    def lesson_status(self, course: str, lesson: str) -> dict:
        return self.json("GET", f"/courses/{course}/{lesson}/status/")
