#!/usr/bin/env python3
"""Screenshots of the main pages for docs/screenshots, at desktop and phone (390 px) width.

Needs Debian's chromium and chromium-driver and `pip install selenium`, and a server started with
demo data:  dangjian serve --demo --data /tmp/shots-db --bind 127.0.0.1:18081
Then:       python3 scripts/screenshots.py http://127.0.0.1:18081 docs/screenshots
"""
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:18081"
OUT = sys.argv[2] if len(sys.argv) > 2 else "docs/screenshots"


def driver(width, height):
    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    for a in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--no-first-run", f"--window-size={width},{height}"]:
        o.add_argument(a)
    if width < 500:  # headless windows are at least 500 px wide: emulate the phone's viewport
        o.add_experimental_option("mobileEmulation", {"deviceMetrics": {"width": width, "height": height, "pixelRatio": 1}})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)


def login(d, user):
    d.get(BASE + "/login")
    d.find_element(By.NAME, "username").send_keys(user)
    d.find_element(By.NAME, "password").send_keys("demo1234")
    d.find_element(By.CSS_SELECTOR, "button.primary").click()
    time.sleep(0.5)


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
    d = driver(w, h)
    if user:
        login(d, user)
    d.get(BASE + path)
    time.sleep(0.3)
    d.save_screenshot(f"{OUT}/{name}.png")
    d.quit()

# the bulk-accounts action (creates logins: run it last, on a throwaway database)
d = driver(1280, 900)
login(d, "secretary")
d.execute_script("window.confirm = () => true;")
d.find_element(By.CSS_SELECTOR, "form[action$='/accounts'] button").click()
time.sleep(2)
d.save_screenshot(f"{OUT}/accounts.png")
d.quit()
print("screenshots written to", OUT)
