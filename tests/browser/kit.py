"""What the browser tests (and scripts/screenshots.py) share: a headless Debian chromium, and the
checks with their closing cargo-style 'test result' line."""
import sys
import time
import traceback

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By


def driver(width: int, height: int):
    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    for a in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--no-first-run", f"--window-size={width},{height}"]:
        o.add_argument(a)
    if width < 500:  # headless windows are at least 500 px wide: emulate the phone's viewport
        o.add_experimental_option("mobileEmulation", {"deviceMetrics": {"width": width, "height": height, "pixelRatio": 1}})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)


def run(main, checks: dict) -> None:
    """Runs `main` (a crash is a failed check, with its trace), prints the result line and exits
    non-zero if any check failed."""
    try:
        main()
    except Exception:
        traceback.print_exc()
        checks["failed"] += 1
    result = "ok" if checks["failed"] == 0 else "FAILED"
    print(f"test result: {result}. {checks['passed']} passed; {checks['failed']} failed; 0 ignored")
    sys.exit(1 if checks["failed"] else 0)


def login(d, base: str, user: str, password: str = "demo1234", pause: float = 0.3) -> None:
    """Logs `user` in through the login page of `base` in browser `d`."""
    d.get(base + "/login")
    d.find_element(By.NAME, "username").send_keys(user)
    d.find_element(By.NAME, "password").send_keys(password)
    d.find_element(By.CSS_SELECTOR, "button.primary").click()
    time.sleep(pause)


def checker(checks: dict, prefix: str):
    """`check(name, ok, detail)`: counts into `checks` and prints a cargo-style line."""

    def check(name: str, ok: bool, detail: str = "") -> None:
        checks["passed" if ok else "failed"] += 1
        print(f"test {prefix}::{name} ... {'ok' if ok else 'FAILED ' + detail}")

    return check
