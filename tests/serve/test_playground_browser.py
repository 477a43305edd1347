"""The playground page in a real headless Chromium (Debian's `chromium` + `chromedriver`,
driven by Selenium): load the page, send a message, watch the attempts stream, wait for
the answer and the validation panel, save a screenshot in the test's tmp folder.

Skipped (with the install command) where no Chromium is installed; `.ci/run` installs it.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.servers import LoopbackServer, Reply

from .test_playground_events import sampling_program

INSTALL = "apt-get install -y chromium chromium-driver"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver") or (
    "/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else None
)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason=f"needs Debian's Chromium and its driver: {INSTALL}",
)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--window-size=1100,900",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def test_playground_shows_attempts_validations_and_answer(
    browser: Any, tmp_path: Path, loopback: LoopbackServer, serve_program: Callable[..., str]
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    loopback.configure(token_delay=0.05)  # slow enough to watch the attempts stream
    loopback.enqueue(Reply(text="a first draft of dessert"), Reply(text="BANANA split sundae"))
    url = serve_program(sampling_program(loopback, sync=False))
    wait = WebDriverWait(browser, 30)

    browser.get(url + "/")
    wait.until(ec.text_to_be_present_in_element((By.ID, "program"), "program: test-program"))
    browser.find_element(By.ID, "prompt").send_keys("Write a dessert.")
    browser.find_element(By.ID, "send").click()

    first = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".attempt .text"))[0]
    wait.until(lambda d: first.text)
    browser.save_screenshot(str(tmp_path / "playground-streaming.png"))
    turn = wait.until(
        ec.presence_of_element_located((By.CSS_SELECTOR, ".turn.assistant[data-state='done']"))
    )
    shot = tmp_path / "playground.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000

    attempts = turn.find_elements(By.CSS_SELECTOR, ".attempt")
    assert [a.find_element(By.CSS_SELECTOR, ".text").text for a in attempts] == [
        "a first draft of dessert",
        "BANANA split sundae",
    ]
    failed = attempts[0].find_element(By.CSS_SELECTOR, ".validation li.fail").text
    assert "Mention the fruit." in failed and "the word BANANA is missing" in failed
    assert (
        attempts[1]
        .find_element(By.CSS_SELECTOR, ".validation li.pass")
        .text.startswith("Mention the fruit.")
    )
    repair = attempts[1].find_element(By.CSS_SELECTOR, ".repair").text
    assert repair.startswith("Repair given:") and "BANANA" in repair
    assert "selected" in attempts[1].get_attribute("class")
    assert "selected" not in attempts[0].get_attribute("class")
    assert turn.find_element(By.CSS_SELECTOR, ".answer").text == "BANANA split sundae"
    meta = turn.find_element(By.CSS_SELECTOR, ".meta").text
    assert "requirements met" in meta and "2 attempts" in meta and "tokens:" in meta
    assert "first token" in meta and "total" in meta and "ms" in meta
    # each attempt was painted piece by piece as it streamed, not at once
    assert all(int(a.get_attribute("data-deltas")) >= 3 for a in attempts)
    # nothing was fetched from anywhere but the server itself
    origins = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => new URL(e.name).origin)"
    )
    assert set(origins) <= {url}
