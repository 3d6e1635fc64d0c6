#!/usr/bin/env python3
"""Browser test (Debian chromium + chromedriver) of the dues pages against a demo server: the
secretary sets bases and generates the year's bills (through the API), records a cash payment on
the collector's page; the member opens their dues on a 390 px phone, ticks a month, pays with the
fake provider (demo mode) and sees it paid. Screenshots go to the folder given.

Usage: dues_pages.py BASE_URL SCREENSHOT_DIR
Prints a cargo-style 'test result' line.
"""
import http.cookiejar
import json
import os
import sys
import time
import urllib.request

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

import kit

BASE = sys.argv[1]
SHOTS = sys.argv[2]
os.makedirs(SHOTS, exist_ok=True)
checks = {"passed": 0, "failed": 0}
check = kit.checker(checks, "browser::dues")


class Api:
    """A logged-in JSON client (session cookie + CSRF token)."""

    def __init__(self, user: str, password: str = "demo1234"):
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.csrf = ""
        self.csrf = self.call("POST", "/api/v1/login", {"username": user, "password": password})["csrf_token"]

    @staticmethod
    def public(path: str):
        with urllib.request.urlopen(BASE + path) as r:
            return json.loads(r.read())

    def call(self, method: str, path: str, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(BASE + path, data=data, method=method)
        req.add_header("content-type", "application/json")
        if self.csrf:
            req.add_header("X-CSRF-Token", self.csrf)
        try:
            with self.opener.open(req) as r:
                return json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            return json.loads(e.read() or b"{}")


def login(d, user: str, password: str = "demo1234") -> None:
    kit.login(d, BASE, user, password)


def id_number(birth: str, seq: int) -> str:
    """A made-up GB 11643 ID number for a birth date (YYYYMMDD) and a sequence number."""
    first17 = f"110105{birth}{seq % 1000:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(c) * w for c, w in zip(first17, weights))
    return first17 + "10X98765432"[total % 11]


def main() -> None:
    sec = Api("secretary")
    branch = sec.call("GET", "/api/v1/me")["grants"][0]["org_id"]
    # the server's calendar, not this machine's: CI runs the demo as of other dates (serve --today)
    today = Api.public("/api/v1/time")["today"]
    year, month = int(today[:4]), int(today[5:7])
    # The test's own state, whatever the demo holds today: a new member of the branch with a base
    # and a login, and this year's bills for the branch (so this member owes every month).
    seq = int(time.time() * 1000) % 997
    name = f"测试党费{seq:03d}"
    person = sec.call("POST", "/api/v1/members", {
        "org_id": branch, "name": name, "id_number": id_number("19880512", seq), "status": "formal",
        "joined_on": "2012-07-01", "regularized_on": "2013-07-01", "category": "in_service"})
    pid = person.get("id")
    check("test_member_created", isinstance(pid, int), str(person))
    base = sec.call("PUT", f"/api/v1/members/{pid}/dues-base/{year}", {"category": "in_service", "base_fen": 420000})
    check("test_member_has_a_base", base.get("error") is None, str(base))
    username = f"dues{seq:03d}"
    user = sec.call("POST", "/api/v1/users", {"username": username, "password": "dues-test-2026",
                                              "person_id": pid, "grants": []})
    check("test_member_has_a_login", isinstance(user.get("id"), int), str(user))
    # a new login must change its password first
    changed = Api(username, "dues-test-2026").call("POST", "/api/v1/password", {
        "old_password": "dues-test-2026", "new_password": "dues-test-2027"})
    check("test_member_sets_a_password", changed.get("error") is None, str(changed))
    gen = sec.call("POST", f"/api/v1/orgs/{branch}/dues-bills", {"year": year})
    again = sec.call("POST", f"/api/v1/orgs/{branch}/dues-bills", {"year": year})
    check("whole_year_generated_once", isinstance(gen.get("created"), int) and gen["created"] >= 12
          and again.get("created") == 0, f"{gen} then {again}")
    mine = sec.call("GET", f"/api/v1/members/{pid}/dues?year={year}")["months"]
    check("the_new_member_owes_every_month", [m["status"] for m in mine] == ["due"] * 12, str(mine))

    d = kit.driver(1280, 900)
    try:
        login(d, "secretary")
        d.get(f"{BASE}/dues?org={branch}&year={year}&month={month}")
        check("collector_page_lists_bills", len(d.find_elements(By.CSS_SELECTOR, "#dues-bills tbody tr")) >= 2)
        Select(d.find_element(By.NAME, "person_id")).select_by_value(str(pid))
        d.find_element(By.NAME, "months").send_keys(f"{year}-{month:02d}")
        d.find_element(By.CSS_SELECTOR, "#dues-payment-form button.primary").click()
        time.sleep(0.3)
        d.get(f"{BASE}/dues?org={branch}&year={year}&month={month}")
        row = d.find_element(By.CSS_SELECTOR, f'#dues-bills a[href="/members/{pid}"]').find_element(By.XPATH, "./ancestor::tr")
        check("cash_payment_recorded", "已交" in row.text, row.text)
        d.save_screenshot(os.path.join(SHOTS, "dues-collector.png"))
    finally:
        d.quit()

    d = kit.driver(390, 844)
    try:
        login(d, username, "dues-test-2027")
        d.get(BASE + "/dues/me")
        width = d.execute_script("return document.documentElement.scrollWidth")
        check("member_page_fits_390px", width <= 390, f"scrollWidth {width}")
        boxes = d.find_elements(By.CSS_SELECTOR, "#dues-pay-form input[type=checkbox]")
        check("due_months_can_be_ticked", len(boxes) > 0)
        d.save_screenshot(os.path.join(SHOTS, "dues-member-phone.png"))
        boxes[0].click()
        d.find_element(By.CSS_SELECTOR, "#dues-pay-form button.primary").click()
        time.sleep(0.3)
        check("fake_provider_page", "/dues/pay/" in d.current_url, d.current_url)
        d.save_screenshot(os.path.join(SHOTS, "dues-fake-pay.png"))
        d.find_element(By.CSS_SELECTOR, "button.primary").click()
        time.sleep(0.3)
        paid_shown = len(d.find_elements(By.CSS_SELECTOR, ".dues-months li.paid"))
        paid = [m["month"] for m in sec.call("GET", f"/api/v1/members/{pid}/dues?year={year}")["months"]
                if m["status"] == "paid"]
        check("paid_after_the_signed_callback", d.current_url.endswith("/dues/me") and paid_shown == 2
              and len(paid) == 2, f"{d.current_url}: {paid_shown} shown paid, paid {paid}")
        d.save_screenshot(os.path.join(SHOTS, "dues-member-paid.png"))
    finally:
        d.quit()


if __name__ == "__main__":
    kit.run(main, checks)
