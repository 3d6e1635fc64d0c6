#!/usr/bin/env python3
"""Browser test (Debian chromium + chromedriver): the demo secretary opens the member list,
filters it, imports a roster with one bad row and sees the row error, fixes it and imports it.
Screenshots at desktop and 390 px width go to the folder given as the second argument.

Usage: roster_import.py BASE_URL SCREENSHOT_DIR
Prints a cargo-style 'test result' line so CI counts the checks.
"""
import os
import sys
import tempfile
import time

from openpyxl import Workbook
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

import kit

BASE = sys.argv[1]
SHOTS = sys.argv[2]
os.makedirs(SHOTS, exist_ok=True)

WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def id_number(birth: str, seq: int) -> str:
    first17 = "110105" + birth.replace("-", "") + f"{seq:03d}"
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11]


HEADER = ["姓名", "性别", "民族", "出生日期", "身份证号", "手机号", "学历", "人员类别", "党员状态", "入党日期", "转正日期", "工作单位及职务"]


def roster(path: str, bad: bool) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    good1 = id_number("1988-04-12", 731)
    second = id_number("1993-08-21", 743)
    if bad:  # a wrong check character on the second person (Excel row 3)
        second = second[:17] + ("1" if second[17] != "1" else "2")
    for name, idn, birth, gender in [("测试甲", good1, "1988-04-12", "男"), ("测试乙", second, "1993-08-21", "男")]:
        ws.append([name, gender, "汉族", birth, idn, "", "大学本科", "在职", "正式党员", "2015-06-30", "2016-06-30", "测试单位"])
    for row in ws.iter_rows(min_row=2):
        row[4].number_format = "@"
    wb.save(path)


checks = {"passed": 0, "failed": 0}
check = kit.checker(checks, "browser")


def login(d, user: str) -> None:
    kit.login(d, BASE, user)


def main() -> None:
    tmp = tempfile.mkdtemp()
    bad_file, good_file = os.path.join(tmp, "bad.xlsx"), os.path.join(tmp, "good.xlsx")
    roster(bad_file, bad=True)
    roster(good_file, bad=False)
    d = kit.driver(1280, 1000)
    try:
        login(d, "secretary")
        check("secretary_lands_on_the_workbench", "本支部工作台" in d.page_source)
        d.find_element(By.LINK_TEXT, "名册").click()
        time.sleep(0.3)
        check("member_list_opens", "members" in d.current_url and "身份证号" in d.page_source)
        Select(d.find_element(By.NAME, "status")).select_by_value("probationary")
        d.find_element(By.CSS_SELECTOR, ".filters button").click()
        time.sleep(0.3)
        rows = d.find_elements(By.CSS_SELECTOR, "table.list tbody tr")
        check("filter_by_status", len(rows) > 0 and all("预备党员" in r.text for r in rows), f"{len(rows)} rows")
        d.save_screenshot(os.path.join(SHOTS, "browser-members-filtered.png"))
        Select(d.find_element(By.NAME, "status")).select_by_value("")
        d.find_element(By.CSS_SELECTOR, ".filters button").click()
        time.sleep(0.3)
        d.find_element(By.LINK_TEXT, "导入 Excel").click()
        time.sleep(0.3)
        d.find_element(By.NAME, "file").send_keys(bad_file)
        d.find_element(By.CSS_SELECTOR, "form button.primary").click()
        time.sleep(0.5)
        errors = d.find_elements(By.CSS_SELECTOR, "table.import-errors tbody tr")
        text = " | ".join(e.text for e in errors)
        check("bad_row_is_listed_with_row_and_column", len(errors) == 1 and "3" in text and "身份证号" in text, text)
        d.save_screenshot(os.path.join(SHOTS, "browser-import-error.png"))
        d.find_element(By.NAME, "file").send_keys(good_file)
        box = d.find_element(By.NAME, "dry_run")
        if box.is_selected():
            box.click()
        d.find_element(By.CSS_SELECTOR, "form button.primary").click()
        time.sleep(0.8)
        check("fixed_file_imports", "导入完成" in d.page_source and "测试甲" in d.page_source and "测试乙" in d.page_source,
              d.current_url)
        d.save_screenshot(os.path.join(SHOTS, "browser-import-done.png"))
    finally:
        d.quit()
    # the same pages at phone width
    p = kit.driver(390, 900)
    try:
        login(p, "secretary")
        p.get(BASE + "/members?org=3&subtree=true")
        time.sleep(0.3)
        width = p.execute_script("return document.documentElement.scrollWidth")
        check("member_list_fits_a_phone", width <= 400, f"scrollWidth {width}")
        p.save_screenshot(os.path.join(SHOTS, "browser-members-phone.png"))
        p.delete_all_cookies()
        login(p, "member")
        check("member_sees_own_record_on_the_phone", "我的党员信息" in p.title or "组织关系记录" in p.page_source)
        p.save_screenshot(os.path.join(SHOTS, "browser-member-phone.png"))
    finally:
        p.quit()


kit.run(main, checks)
