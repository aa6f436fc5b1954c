#!/usr/bin/env python3
"""The web page in Debian's headless Chromium against a real optoutd.

browser_e2e_test.py OPTOUTD OPTOUT IMAGE_DIR ARTIFACT_DIR [PHOTO_DIR]

Registers two photos, a URL and a scope through the page (which shows the
scope's challenge; Verify reports the failed check), downloads the receipt,
checks a recompressed copy of one photo with `optout check --image`
(matches), shows the counts on the status form from the receipt, revokes
through the page, and the copy no longer matches. Every request the page
makes is recorded: no body may hold image bytes, and the registration sends
< 4 KB per photo. Then window.optoutHashFile is compared with `optout hash`
on every image of the corpus (originals and edited copies): SHA-256 and MD5
identical, PDQ within 8 bits for images of 64 px or more; the distribution
is printed per format. Screenshots of each
state (and the page at 360 px, which must not scroll sideways) go to
ARTIFACT_DIR.
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

OPTOUTD, OPTOUT, IMAGE_DIR, ARTIFACTS = map(os.path.abspath, sys.argv[1:5])
# Real photos and artworks with realistic edits, compared like IMAGE_DIR.
PHOTO_DIR = os.path.abspath(sys.argv[5]) if len(sys.argv) > 5 else None


def wait_for_file(path, seconds=30):
    deadline = time.time() + seconds
    while not os.path.exists(path):
        if time.time() > deadline:
            raise RuntimeError(f"{path} never appeared")
        time.sleep(0.05)
    with open(path) as f:
        return int(f.read())


def start_optoutd(root):
    args = [OPTOUTD, "--listen=127.0.0.1:0", f"--data_dir={root}/data",
            f"--secret_file={root}/registry.secret", f"--port_file={root}/port",
            "--http_listen=127.0.0.1:0", f"--http_port_file={root}/http.port",
            "--register_rate_per_peer=0", "--anonymous_items_per_minute=1000000",
            # The scope's challenge is checked against closed local ports:
            # refused at once, never the network.
            "--testing", "--verify_resolve=photos.example.net=127.0.0.1:9",
            "--verify_dns=127.0.0.1:9", "--verify_timeout=2s"]
    log = open(f"{root}/optoutd.log", "w")
    process = subprocess.Popen(args, stderr=log)
    grpc_port = wait_for_file(f"{root}/port")
    return process, grpc_port, wait_for_file(f"{root}/http.port")


def optout(grpc_port, *args):
    return subprocess.run([OPTOUT, "--server", f"127.0.0.1:{grpc_port}", *args],
                          capture_output=True, text=True, timeout=60)


def hash_natively(grpc_port, image_dir, names):
    """`optout --json hash` of image_dir's files by name, in one call; an
    image the CLI refuses has a row with "error" and is left out."""
    run = optout(grpc_port, "--json", "hash", *[os.path.join(image_dir, n) for n in names])
    rows = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(rows) == len(names), run.stderr
    return {os.path.basename(r["path"]): r for r in rows if "error" not in r}


def check_photo_on_page(driver, wait, path, expected):
    """Checks the photo at `path` with the page's check form (no URL)."""
    driver.find_element(By.CSS_SELECTOR, "[data-testid=check-url-input]").clear()
    driver.find_element(By.CSS_SELECTOR, "[data-testid=check-photo-input]").send_keys(path)
    driver.execute_script("document.getElementById('check-result').textContent = ''")
    driver.find_element(By.CSS_SELECTOR, "[data-testid=check-button]").click()
    wait.until(lambda d: d.find_element(By.ID, "check-result").text != "")
    text = driver.find_element(By.ID, "check-result").text
    assert text.startswith(expected), (text, expected)
    driver.find_element(By.CSS_SELECTOR, "[data-testid=check-photo-input]").clear()


# Every form control's accessible name, the contrast of text against its
# background (WCAG AA: 4.5:1) for each visible element with text, and the
# ids of controls in the order Tab reaches them.
ACCESSIBILITY_PROBE = """
const unnamed = [];
for (const el of document.querySelectorAll('input, textarea, select, button')) {
  const label = el.id && document.querySelector(`label[for="${el.id}"]`);
  const named = label || el.closest('label') || el.getAttribute('aria-label') ||
                (el.tagName === 'BUTTON' && el.textContent.trim());
  if (!named) unnamed.push(el.id || el.outerHTML.slice(0, 60));
}
function rgb(text) { return text.match(/[0-9.]+/g).slice(0, 4).map(Number); }
function luminance([r, g, b]) {
  const c = [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
  return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}
function background(el) {
  for (; el; el = el.parentElement) {
    const c = rgb(getComputedStyle(el).backgroundColor);
    if (c.length < 4 || c[3] > 0) return c;
  }
  return [255, 255, 255];
}
const lowContrast = [];
for (const el of document.querySelectorAll('body *')) {
  const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
  if (!own || el.offsetParent === null) continue;
  const fg = luminance(rgb(getComputedStyle(el).color)), bg = luminance(background(el));
  const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
  if (ratio < 4.5) lowContrast.push(`${el.tagName}#${el.id}: ${ratio.toFixed(2)}`);
}
return { unnamed, lowContrast };
"""


def check_accessibility(driver):
    found = driver.execute_script(ACCESSIBILITY_PROBE)
    assert not found["unnamed"], found["unnamed"]
    assert not found["lowContrast"], found["lowContrast"]
    # Keyboard only: from the top of the page, Tab reaches the opt-out form's
    # controls in reading order.
    driver.execute_script("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)")
    reached = []
    for _ in range(12):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        reached.append(driver.switch_to.active_element.get_attribute("id"))
    wanted = ["photo-input", "url-input", "scope-input", "dihedral-input", "register-button"]
    positions = [reached.index(w) for w in wanted if w in reached]
    assert len(positions) == len(wanted) and positions == sorted(positions), reached
    print(f"accessibility: {len(found['unnamed'])} unnamed controls, Tab order {reached}")


def hamming(a, b):
    return bin(int(a, 16) ^ int(b, 16)).count("1")


def main():
    os.makedirs(ARTIFACTS, exist_ok=True)
    root = tempfile.mkdtemp(prefix="optout-browser-")
    server, grpc_port, http_port = start_optoutd(root)
    # Chromium's profile and scratch folders inside `root`, removed with it
    # (left to itself it leaves one folder in /tmp per run).
    os.environ["TMPDIR"] = root
    options = webdriver.ChromeOptions()
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1000,1400",
                 "--disable-dev-shm-usage", f"--user-data-dir={os.path.join(root, 'profile')}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    options.add_experimental_option("prefs", {"download.default_directory": root,
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(options=options)
    try:
        run(driver, root, grpc_port, http_port)
    finally:
        driver.quit()
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)


def shot(driver, name):
    driver.save_screenshot(os.path.join(ARTIFACTS, f"{name}.png"))


def requests_made(driver):
    """(method, url, body) of every request the page sent so far."""
    made = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            request = message["params"]["request"]
            made.append((request["method"], request["url"], request.get("postData", "")))
    return made


def run(driver, root, grpc_port, http_port):
    by_id = lambda testid: driver.find_element(By.CSS_SELECTOR, f"[data-testid={testid}]")
    wait = WebDriverWait(driver, 60)
    driver.get(f"http://127.0.0.1:{http_port}/")
    shot(driver, "1-page")
    # Usable on a 360 px wide phone: nothing wider than the viewport.
    driver.set_window_size(360, 900)
    width = driver.execute_script("return document.documentElement.scrollWidth")
    viewport = driver.execute_script("return window.innerWidth")
    assert width <= viewport, (width, viewport)
    shot(driver, "1-page-360px")
    check_accessibility(driver)
    driver.set_window_size(1000, 1400)

    photos = [os.path.join(IMAGE_DIR, "d03_clouds__orig.jpg"),
              os.path.join(IMAGE_DIR, "d01_plasma__orig.jpg")]
    photo_bytes = [open(p, "rb").read() for p in photos]
    by_id("photo-input").send_keys("\n".join(photos))
    by_id("url-input").send_keys("https://img.example.net/browser/me.jpg")
    by_id("scope-input").send_keys("https://photos.example.net/users/me/")
    wait.until(lambda d: d.find_element(By.ID, "photo-list").text.count("hashed (PDQ quality") == 2)
    shot(driver, "2-photos-hashed")
    by_id("register-button").click()
    wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, "[data-testid=receipt-id]")))
    opt_out_id = by_id("receipt-id").text
    token = by_id("receipt-token").text
    assert len(opt_out_id) == 32 and len(token) == 64, (opt_out_id, token)
    shot(driver, "3-registered")

    # The scope is pending: the page shows the token and where to publish
    # it; Verify asks the registry to check and shows why it failed.
    challenge_token = by_id("challenge-token").text
    assert challenge_token, "no challenge token shown"
    scope_line = driver.find_element(By.CSS_SELECTOR, "[data-host='photos.example.net']")
    assert scope_line.get_attribute("data-state") == "pending", scope_line.text
    assert f"photos.example.net/.well-known/optout-challenge/{challenge_token}" in scope_line.text, \
        scope_line.text
    assert "_optout-challenge.photos.example.net" in scope_line.text, scope_line.text
    by_id("verify-button").click()
    wait.until(lambda d: "last check:" in d.find_element(
        By.CSS_SELECTOR, "[data-host='photos.example.net']").text)
    scope_line = driver.find_element(By.CSS_SELECTOR, "[data-host='photos.example.net']")
    assert scope_line.get_attribute("data-state") == "pending", scope_line.text
    print(f"scope challenge after verify: {scope_line.text!r}")
    shot(driver, "3a-challenge")

    by_id("receipt-download").click()
    receipt_path = os.path.join(root, f"receipt-{opt_out_id}.json")
    deadline = time.time() + 30
    while not os.path.exists(receipt_path) and time.time() < deadline:
        time.sleep(0.1)
    with open(receipt_path) as f:
        receipt = json.load(f)
    assert receipt["id"] == opt_out_id and receipt["token"] == token
    assert len(receipt["registered"]["images"]) == 2
    # One match id per registered item (1 URL; PDQ, SHA-256 and MD5 of each
    # photo), in the CLI receipt's shape.
    kinds = sorted(m["kind"] for m in receipt["match_ids"])
    assert kinds == ["md5", "md5", "pdq", "pdq", "scope", "sha256", "sha256", "url"], \
        receipt["match_ids"]
    # The challenge as `optout register` keeps it, for `optout verify --receipt`.
    assert receipt["challenge"]["token"] == challenge_token, receipt["challenge"]
    assert [s["host"] for s in receipt["challenge"]["scopes"]] == ["photos.example.net"], \
        receipt["challenge"]
    assert {"kind": "url", "item": "https://img.example.net/browser/me.jpg"}.items() <= \
        next(m for m in receipt["match_ids"] if m["kind"] == "url").items()
    for m in receipt["match_ids"]:
        assert m["item"] and m["match_id"], m
    image_items = {m["item"] for m in receipt["match_ids"] if m["kind"] != "url"}
    for image in receipt["registered"]["images"]:
        assert {image["pdq"], image["sha256"], image["md5"]} <= image_items, image
    got = optout(grpc_port, "get", "--receipt", receipt_path)
    assert got.returncode == 0, got.stderr

    # No image bytes in any request; a registration is small.
    for method, url, body in requests_made(driver):
        for data in photo_bytes:
            for probe in (data[1000:1064], base64.b64encode(data[999:1047]).decode()):
                assert (probe.decode("latin-1") if isinstance(probe, bytes) else probe) not in body, url
        if method == "POST" and url.endswith("/v1/optouts"):
            register_body = body
    print(f"registration body: {len(register_body)} bytes for 2 photos and 1 URL")
    assert len(register_body) < 4096 * 2, len(register_body)
    # The server matches each window in its own tier (GetInfo's
    # pdqRegionTiers, on by default), so the page sends each window's
    # quality with it, as `optout register --image` does.
    with_regions = [p for p in json.loads(register_body)["pdq"] if p.get("regions")]
    assert with_regions, register_body
    for pdq in with_regions:
        assert len(pdq.get("regionQuality", [])) == len(pdq["regions"]), pdq
        assert all(15 <= q <= 100 for q in pdq["regionQuality"]), pdq

    # A recompressed copy (JPEG quality 0.7 by the browser) matches.
    copy_b64 = driver.execute_async_script(
        "const done = arguments[0];"
        "const input = document.querySelector('[data-testid=photo-input]');"
        "createImageBitmap(input.files[0]).then(b => { const c = new OffscreenCanvas(b.width, b.height);"
        " c.getContext('2d').drawImage(b, 0, 0); return c.convertToBlob({type: 'image/jpeg', quality: 0.7}); })"
        ".then(blob => blob.arrayBuffer()).then(buf => { let s = ''; for (const x of new Uint8Array(buf)) s += String.fromCharCode(x); done(btoa(s)); });")
    copy_path = os.path.join(root, "copy.jpg")
    with open(copy_path, "wb") as f:
        f.write(base64.b64decode(copy_b64))
    assert open(copy_path, "rb").read() != photo_bytes[0]
    checked = optout(grpc_port, "--json", "check", "--image", copy_path)
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout)["results"][0]["matched"] is True, checked.stdout
    # The owner recognises the match by a match id her receipt lists.
    copy_ids = set(json.loads(checked.stdout)["results"][0]["ids"])
    assert copy_ids & {m["match_id"] for m in receipt["match_ids"] if m["kind"] == "pdq"}, \
        (copy_ids, receipt["match_ids"])

    # The page's own photo check finds the copy (hashed in the browser).
    check_photo_on_page(driver, wait, copy_path, "copy.jpg: opted out")
    shot(driver, "3b-photo-check")

    # Status from the receipt file, then revoke through the page.
    by_id("status-receipt-input").send_keys(receipt_path)
    wait.until(lambda d: d.find_element(By.ID, "status-id").get_attribute("value") == opt_out_id)
    by_id("status-button").click()
    wait.until(lambda d: "Registered on" in d.find_element(By.ID, "status-counts").text)
    counts = by_id("status-counts").text
    assert "1 URLs" in counts and "2 PDQ hashes" in counts and "2 SHA-256" in counts, counts
    shot(driver, "4-status")
    by_id("revoke-button").click()
    wait.until(ec.alert_is_present())
    driver.switch_to.alert.accept()
    wait.until(lambda d: "Withdrawn on" in d.find_element(By.ID, "status-counts").text)
    shot(driver, "5-revoked")
    checked = optout(grpc_port, "--json", "check", "--image", copy_path)
    assert json.loads(checked.stdout)["results"][0]["matched"] is False, checked.stdout
    check_photo_on_page(driver, wait, copy_path, "copy.jpg: not opted out")

    # The page's check form.
    by_id("check-url-input").clear()
    by_id("check-url-input").send_keys("https://img.example.net/browser/me.jpg")
    by_id("check-button").click()
    wait.until(lambda d: "not opted out" in d.find_element(By.ID, "check-result").text)
    shot(driver, "6-check")

    # Browser hashes against `optout hash` on whole corpora (originals and
    # their edited copies).
    compare_hashes(driver, grpc_port, IMAGE_DIR, max_refused=3)
    if PHOTO_DIR:
        compare_hashes(driver, grpc_port, PHOTO_DIR, max_refused=0)


def compare_hashes(driver, grpc_port, image_dir, max_refused):
    """window.optoutHashFile against `optout hash` on every file of
    image_dir: SHA-256 and MD5 identical, PDQ within 8 bits for images of
    64 px or more; an image the CLI refuses (too small for PDQ) must be
    refused by the page too. Prints the distance histogram per format."""
    names = sorted(os.listdir(image_dir))
    native_hashes = hash_natively(grpc_port, image_dir, names)
    distances = {"jpg": [], "png": []}
    refused = []
    for name in names:
        path = os.path.join(image_dir, name)
        driver.find_element(By.CSS_SELECTOR, "[data-testid=check-photo-input]").send_keys(path)
        got = driver.execute_async_script(
            "const done = arguments[0];"
            "window.optoutHashFile(document.querySelector('[data-testid=check-photo-input]').files[0])"
            ".then(done, e => done({error: String(e)}));")
        expected = native_hashes.get(name)
        if expected is None:
            assert "error" in got, (name, got)
            refused.append(name)
            continue
        assert "error" not in got, (name, got)
        assert got["sha256"] == expected["sha256"], name
        assert got["md5"] == expected["md5"], name
        distance = hamming(got["pdq"], expected["pdq"])
        distances["png" if name.endswith(".png") else "jpg"].append(distance)
        if min(expected["width"], expected["height"]) >= 64:
            assert distance <= 8, (name, distance)
    total = sum(len(d) for d in distances.values())
    assert total + len(refused) == len(names) and len(refused) <= max_refused, refused
    corpus = os.path.basename(os.path.dirname(image_dir))
    print(f"{corpus}: refused by both the CLI and the page: {refused}")
    for kind, found in distances.items():
        if not found:
            continue
        histogram = {d: found.count(d) for d in sorted(set(found))}
        print(f"{corpus}: browser vs optout hash, {len(found)} {kind} images: PDQ distance "
              f"histogram {histogram}")


if __name__ == "__main__":
    main()
