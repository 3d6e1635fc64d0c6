#!/usr/bin/env python3
"""Screenshots of the main pages for docs/screenshots, at desktop and phone (390 px) width.

Needs Debian's chromium and chromium-driver and `pip install selenium`, and a server started with
demo data:  dangjian serve --demo --data /tmp/shots-db --bind 127.0.0.1:18081
Then:       python3 scripts/screenshots.py http://127.0.0.1:18081 docs/screenshots
"""
import os
import sys
import time

from selenium.webdriver.common.by import By

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "browser"))
import kit  # noqa: E402  (the browser tests' chromium)

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:18081"
OUT = sys.argv[2] if len(sys.argv) > 2 else "docs/screenshots"


def login(d, user):
    kit.login(d, BASE, user, pause=0.5)


PAGES = [
    (None, 1280, 800, "/login", "login"),
    ("secretary", 1280, 1400, "/", "secretary"),
    ("admin", 1280, 1100, "/", "admin"),
    ("member", 390, 1000, "/", "member-phone"),
    ("secretary", 390, 900, "/", "secretary-phone"),
    ("secretary", 1280, 1000, "/members?org=3&subtree=true", "members-list"),
    ("secretary", 1280, 1100, "/members/1", "member-show"),
    ("secretary", 390, 900, "/members/1", "member-show-phone"),
    ("secretary", 1280, 900, "/members/new?org=3", "member-new"),
    ("secretary", 1280, 800, "/members/import?org=3", "member-import"),
    ("admin", 1280, 1200, "/orgs", "orgs-tree"),
    ("admin", 1280, 1200, "/orgs/3", "org-show"),
]
for user, w, h, path, name in PAGES:
    d = kit.driver(w, h)
    if user:
        login(d, user)
    d.get(BASE + path)
    time.sleep(0.3)
    d.save_screenshot(f"{OUT}/{name}.png")
    d.quit()

# meetings: a meeting of the demo secretary's branch under way, people checked in, a leave
# request; then the wall, the staff's check-in desk, the secretary's meeting page, the member's phone
import datetime
import http.cookiejar
import json
import urllib.request


def api_session(user):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    req = urllib.request.Request(BASE + "/api/v1/login", json.dumps({"username": user, "password": "demo1234"}).encode(),
                                 {"Content-Type": "application/json"})
    csrf = json.load(opener.open(req))["csrf_token"]

    def call(method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        r = urllib.request.Request(BASE + path, data, {"Content-Type": "application/json", "X-CSRF-Token": csrf}, method=method)
        try:
            return json.load(opener.open(r))
        except urllib.error.HTTPError as e:
            return json.load(e)
    return call


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:00Z")


sec = api_session("secretary")
now = datetime.datetime.now(datetime.timezone.utc)
meeting = sec("POST", "/api/v1/meetings", {"org_id": 3, "kind": "branch_congress", "title": "十一月支部党员大会",
                                           "starts_at": iso(now - datetime.timedelta(minutes=20)),
                                           "ends_at": iso(now + datetime.timedelta(minutes=100)), "venue": "三楼党员活动室"})
mid = meeting["id"]
sec("PATCH", f"/api/v1/meetings/{mid}", {"host": "李文军", "recorder": "王军", "agenda": "一、学习贯彻会议精神\n二、讨论接收预备党员\n三、选举办法（草案）",
                                        "wall_title": "选举办法（草案）", "wall_text": "一、本次选举采用无记名投票方式。\n二、候选人按姓氏笔画排序。\n三、赞成票超过应到会有选举权人数的一半，始得当选。"})
upcoming = sec("POST", "/api/v1/meetings", {"org_id": 3, "kind": "theme_day", "title": "十二月主题党日",
                                            "starts_at": iso(now + datetime.timedelta(days=7)),
                                            "ends_at": iso(now + datetime.timedelta(days=7, hours=2)), "venue": "红色教育基地"})
sec("POST", f"/api/v1/meetings/{upcoming['id']}/notice")
people = sec("GET", f"/api/v1/meetings/{mid}/attendance")["people"]
for i, p in enumerate(people[:28]):
    at = now - datetime.timedelta(minutes=25 - i)
    sec("POST", f"/api/v1/meetings/{mid}/checkins", {"event_id": f"shot-{i}", "person_id": p["person_id"], "method": "manual", "at": iso(at)})
sec("POST", f"/api/v1/meetings/{mid}/checkins", {"event_id": "shot-out", "person_id": people[3]["person_id"], "method": "manual", "direction": "out"})
sec("POST", f"/api/v1/meetings/{mid}/leaves", {"person_id": people[30]["person_id"], "reason": "出差"})
member = api_session("member")
member("POST", f"/api/v1/meetings/{upcoming['id']}/leave-requests", {"reason": "外出培训"})
member("POST", f"/api/v1/meetings/{mid}/leave-requests", {"reason": "身体不适"})

for user, w, h, path, name in [
    ("secretary", 1280, 800, f"/meetings/{mid}/wall", "meeting-wall"),
    ("staff", 1280, 900, f"/meetings/{mid}/checkin", "meeting-checkin"),
    ("secretary", 1280, 1400, f"/meetings/{mid}", "meeting-show"),
    ("secretary", 1280, 800, "/meetings?org=3", "meeting-list"),
    ("member", 390, 1100, "/my/meetings", "meeting-my-phone"),
]:
    d = kit.driver(w, h)
    login(d, user)
    d.get(BASE + path)
    time.sleep(1.5)
    d.save_screenshot(f"{OUT}/{name}.png")
    d.quit()

# the bulk-accounts action (creates logins: run it last, on a throwaway database)
d = kit.driver(1280, 900)
login(d, "secretary")
d.execute_script("window.confirm = () => true;")
d.find_element(By.CSS_SELECTOR, "form[action$='/accounts'] button").click()
time.sleep(2)
d.save_screenshot(f"{OUT}/accounts.png")
d.quit()
print("screenshots written to", OUT)
