"""The workbench as a person uses it: Playwright driving Debian's Chromium against `senseindex serve`
on a copy of the demo index (default model), with every console error and JavaScript error failing
the test that caused it.

Chromium is not optional here: CI installs it (`make test` does, with apt-get, when it is missing);
without it these tests fail rather than skip. Screenshots are taken of every page; with
SENSEINDEX_SCREENSHOTS=1 they are written to docs/screenshots/ (the ones the README shows).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import sqlite3
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from senseindex import SenseIndex
from senseindex.cli import cli
from senseindex.web import create_app

pytestmark = pytest.mark.model

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
MOLE = "I have a [mole] on my hip"
EXTRA = ("The parrot repeated <script>alert(1)</script> to the parrot next door.\n"
         "A parrot <img src=x onerror=alert(2)> sat on the fence.\n"
         "The green parrot ate seeds all afternoon.\n")


def chromium_path() -> str:
    found = os.environ.get("SENSEINDEX_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("Chromium is needed for the browser tests: apt-get install chromium (make test installs it)")
    return found


@pytest.fixture(scope="module")
def served(demo_index, mpnet_encoder, tmp_path_factory):
    """(base URL, index path): a writable copy of the demo, plus lines holding markup, served on 127.0.0.1."""
    from test_web_api import running

    root = tmp_path_factory.mktemp("browser")
    path = root / "demo"
    shutil.copytree(demo_index, path, ignore=shutil.ignore_patterns(".lock"))
    extra = root / "extra.txt"
    extra.write_text(EXTRA, encoding="utf-8")
    SenseIndex.open(path, encoder=mpnet_encoder).add([extra])
    app = create_app({"demo": path}, encoder=mpnet_encoder)
    with running(app) as base:
        yield base, path


@pytest.fixture(scope="module")
def served_unlabelled(demo_index, mpnet_encoder, tmp_path_factory):
    """(base URL, index path, gold senses by lemma and occurrence id): a copy of the demo without any
    label, served; the gold senses are what the person answering review knows."""
    from test_web_api import running

    path = tmp_path_factory.mktemp("review") / "demo"
    shutil.copytree(demo_index, path, ignore=shutil.ignore_patterns(".lock"))
    db = sqlite3.connect(path / "index.db")
    gold: dict[str, dict[int, str]] = {}
    for oid, label, lemma in db.execute("select l.occurrence_id, l.label, o.lemma from labels l "
                                        "join occurrences o on o.id = l.occurrence_id where l.source = 'gold'"):
        gold.setdefault(lemma, {})[oid] = label
    db.execute("delete from labels")
    db.commit()
    db.close()
    app = create_app({"demo": path}, encoder=mpnet_encoder)
    with running(app) as base:
        yield base, path, gold


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A fresh page; any console error or uncaught exception fails the test."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    problems: list[str] = []
    pg.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    pg.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    yield pg
    context.close()
    assert problems == []


SHOTS = ROOT / "docs" / "screenshots"


def shot(pg, name: str, tmp_path: Path, **kwargs) -> None:
    out = SHOTS if os.environ.get("SENSEINDEX_SCREENSHOTS") else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(out / f"{name}.png"), **kwargs)
    assert (out / f"{name}.png").stat().st_size > 5_000


def review_labels(path: Path, word: str) -> dict[int, str]:
    return {r["occurrence_id"]: r["label"] for r in SenseIndex.open(path).labels(("review",), word)}


# --- search -----------------------------------------------------------------------------------------
def test_mole_search_by_clicking_the_target_word(page, served, tmp_path):
    from playwright.sync_api import expect

    base, _ = served
    page.goto(f"{base}/search")
    page.fill("#q", "I have a mole on my hip")
    with page.expect_navigation():
        page.locator("#targets button.tok", has_text=re.compile(r"^mole$")).click()
    rows = page.locator("#results tbody tr")
    expect(rows.first).to_be_visible()
    assert "%5Bmole%5D" in page.url  # the page state is in the URL
    top5 = [t.strip() for t in page.locator("#results tbody td.label").all_inner_texts()[:5]]
    assert sum(t == "skin" for t in top5) >= 4, top5
    assert page.locator("#targets button[aria-pressed=true]").inner_text() == "mole"
    first = page.locator("#results tbody tr").first.inner_text()
    page.goto(page.url)  # a bookmark gives the same concordance
    assert page.locator("#results tbody tr").first.inner_text() == first
    shot(page, "search", tmp_path)


def test_sorting_by_left_context_reorders_the_lines(page, served):
    base, _ = served
    page.goto(f"{base}/search?q={MOLE}&k=30")
    before = page.locator("#results tbody td.left").all_inner_texts()
    with page.expect_navigation():
        page.click("a[data-sort=left]")
    after = page.locator("#results tbody td.left").all_inner_texts()
    assert sorted(before) == sorted(after) and before != after
    first_left = [(re.findall(r"\w+(?:['’-]\w+)*", t.lower()) or [""])[-1] for t in after]
    assert first_left == sorted(first_left)
    assert page.locator("a[data-sort=left]").get_attribute("aria-current") == "true"
    with page.expect_navigation():
        page.click("a[data-sort=right]")
    right = page.locator("#results tbody td.right").all_inner_texts()
    first_right = [(re.findall(r"\w+(?:['’-]\w+)*", t.lower()) or [""])[0] for t in right]
    assert first_right == sorted(first_right)


def test_static_ranking_side_by_side_and_filters(page, served, tmp_path):
    base, _ = served
    page.goto(f"{base}/search?q={MOLE}&k=20")
    page.check("#compare")
    with page.expect_navigation():
        page.click("#search-form button[type=submit]")
    assert page.locator("#results tbody tr").count() == 20
    assert page.locator("#static-results tbody tr").count() == 20
    shot(page, "compare", tmp_path)
    with page.expect_navigation():
        page.select_option("#filter-label", "animal")  # applies when changed: no button
    labels = {t.strip() for t in page.locator("#results tbody td.label").all_inner_texts()}
    assert labels == {"animal"}


# --- review ---------------------------------------------------------------------------------------------
def test_keyboard_review_without_a_mouse(page, served):
    from playwright.sync_api import expect

    base, path = served
    page.goto(f"{base}/senses?word=bank")
    page.keyboard.press("j")
    line = page.locator("li.line.current")
    oid = int(line.get_attribute("data-oid"))
    gold = line.get_attribute("data-base")
    second = page.locator("#cluster-1")
    target = second.get_attribute("data-name") or second.get_attribute("data-suggested")
    page.keyboard.press("2")  # the line gets cluster 2's label
    chip = page.locator(f'li.line[data-oid="{oid}"] .chip')
    expect(chip).to_have_text(target)
    expect(page.locator("#status")).to_contain_text("1 line(s) labelled")
    assert review_labels(path, "bank")[oid] == target
    page.keyboard.press("u")  # undo
    expect(chip).to_have_text(gold)
    expect(page.locator("#status")).to_contain_text("undone")
    assert oid not in review_labels(path, "bank")
    # select two lines with x, give both cluster 1's label
    page.keyboard.press("j")
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    expect(page.locator("#selected-count")).to_have_text("2")
    page.keyboard.press("1")
    expect(page.locator("#status")).to_contain_text("2 line(s) labelled")
    expect(page.locator("#selected-count")).to_have_text("0")
    # name the current line's cluster: n, type, Enter
    page.keyboard.press("n")
    page.keyboard.type("money")
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_contain_text("cluster 1 labelled “money”")
    expect(page.locator("#cluster-0 h2 .cname")).to_have_text("money")
    stored = review_labels(path, "bank")
    assert sum(1 for v in stored.values() if v == "money") == page.locator("#cluster-0 li.line").count()


def test_cluster_label_persists_after_reload_and_in_labels_list(page, served):
    from playwright.sync_api import expect

    base, path = served
    page.goto(f"{base}/senses?word=mole")
    animal = page.locator("li.line", has_text="dead mole lying on the garden path").get_attribute("data-cluster")
    form = page.locator(f"form.name-cluster[data-cluster='{animal}']")
    form.locator("input[name=label]").fill("animal")
    form.locator("button").click()
    expect(page.locator("#status")).to_contain_text(f"cluster {int(animal) + 1} labelled “animal”")
    page.reload()
    expect(page.locator(f"#cluster-{animal} h2 .cname")).to_have_text("animal")
    size = page.locator(f"#cluster-{animal} li.line").count()
    assert page.locator(f"#cluster-{animal} li.line .chip.review").count() == size
    out = CliRunner().invoke(cli, ["labels", "list", str(path), "mole", "--json"])
    assert out.exit_code == 0, out.output
    assert {x["label"]: x["review"] for x in json.loads(out.output)["labels"]}["animal"] == size
    # the skin cluster gets its name, and the skin line that landed among the chemistry lines is moved to it
    skin = page.locator("li.line", has_text="dermatologist asked me").get_attribute("data-cluster")
    page.locator(f"form.name-cluster[data-cluster='{skin}'] input[name=label]").fill("skin")
    page.locator(f"form.name-cluster[data-cluster='{skin}'] button").click()
    expect(page.locator("#status")).to_contain_text("labelled “skin”")
    stray = page.locator("li.line", has_text="ABCDE rule")
    oid = int(stray.get_attribute("data-oid"))
    assert stray.get_attribute("data-cluster") != skin
    stray.locator("select.move").select_option(skin)
    expect(page.locator("#status")).to_contain_text("1 line(s) labelled “skin”")
    page.reload()
    moved = page.locator(f'li.line[data-oid="{oid}"]')
    assert "moved" in moved.get_attribute("class") and moved.locator(".chip").inner_text() == "skin"
    assert review_labels(path, "mole")[oid] == "skin"


def test_exported_csv_downloads_and_imports_back(page, served, tmp_path):
    from playwright.sync_api import expect

    base, path = served
    page.goto(f"{base}/senses?word=crane")
    with page.expect_download() as download:
        page.click("#export-csv")
    saved = tmp_path / "crane.csv"
    download.value.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    assert rows and {"index_id", "occurrence_id", "cluster", "label", "cluster_label"} <= set(rows[0])
    # back in through the CLI, as downloaded: accepted, nothing to change
    out = CliRunner().invoke(cli, ["labels", "import", str(path), str(saved), "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["changed"] == 0
    # filled in, and uploaded through the page's import form
    for r in rows:
        r["cluster_label"] = f"crane sense {r['cluster']}"
    filled = tmp_path / "crane-reviewed.csv"
    with open(filled, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    page.set_input_files("#import-form input[type=file]", str(filled))
    with page.expect_navigation():  # the page reloads after a successful import
        page.click("#import-form button[type=submit]")
    expect(page.locator("#cluster-0 h2 .cname")).to_have_text("crane sense 0")
    assert set(review_labels(path, "crane").values()) == {f"crane sense {c}" for c in {r["cluster"] for r in rows}}


def answer_batch(page, gold: dict[int, str], skip_last: bool = False) -> dict[int, str]:
    """Answer each line of the batch on the page with its gold sense, from the keyboard only: the
    number of a sense in the list, else n and its name; `a` where the k-NN guess is right."""
    from playwright.sync_api import expect

    rows = page.locator("#questions tbody tr.q")
    given: dict[int, str] = {}
    guessed = False
    for i in range(rows.count()):
        tr = rows.nth(i)
        expect(tr).to_have_class(re.compile(r"\bcurrent\b"))  # the cursor moved on by itself
        oid = int(tr.get_attribute("data-oid"))
        sense = "skip" if skip_last and i == rows.count() - 1 else gold[oid]
        senses = page.locator("#choices .sense").all_inner_texts()
        if sense == "skip":
            page.keyboard.press("s")
        elif tr.get_attribute("data-predicted") == sense and not guessed:  # (once per batch)
            page.keyboard.press("a")
            guessed = True
        elif sense in senses:
            page.keyboard.press(str(senses.index(sense) + 1))
        else:
            page.keyboard.press("n")
            page.keyboard.type(sense)
            page.keyboard.press("Enter")
        expect(tr.locator("select.answer")).to_have_value(sense)
        given[oid] = sense
    return given


def test_active_review_page_answers_two_batches_from_the_keyboard(page, served_unlabelled, tmp_path):
    from playwright.sync_api import expect

    base, path, gold = served_unlabelled
    si = SenseIndex.open(path)
    assert si.review_status("mole")["by_person"] == 0
    page.goto(f"{base}/review?word=mole&n=6")
    rows = page.locator("#questions tbody tr.q")
    expect(rows).to_have_count(6)
    expect(page.locator("#no-senses")).to_be_visible()  # no sense names yet: each comes from n
    page.keyboard.press("j")
    expect(rows.nth(1)).to_have_class(re.compile(r"\bcurrent\b"))
    page.keyboard.press("k")
    first = answer_batch(page, gold["mole"])
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_contain_text(f"stored {len(first)} answer(s)")
    expect(page.locator("#status")).to_contain_text("Next batch: 6 line(s)")
    status = SenseIndex.open(path).review_status("mole")
    assert status["by_person"] == len(first) == 6 and status["by_knn"] == status["occurrences"] - 6
    assert review_labels(path, "mole") == first
    expect(page.locator('#review-status [data-stat="by_person"]')).to_have_text("6")
    expect(page.locator('#review-status [data-stat="accuracy"]')).not_to_have_text("–")
    # the second batch: other lines, the senses named so far are keys 1-4, the k-NN vote guesses
    second_ids = [int(x) for x in rows.evaluate_all("rs => rs.map(r => r.dataset.oid)")]
    assert len(second_ids) == 6 and not set(second_ids) & set(first)
    assert sorted(page.locator("#choices .sense").all_inner_texts()) == sorted(set(first.values()))
    assert rows.nth(0).locator(".guess .chip").inner_text() in set(first.values())
    second = answer_batch(page, gold["mole"], skip_last=True)
    page.keyboard.press("k")  # the screenshot: the batch answered, before it is stored
    page.keyboard.press("k")
    page.set_viewport_size({"width": 1400, "height": 600})
    shot(page, "active-review", tmp_path)
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_contain_text(f"stored {len(second) - 1} answer(s)")
    expect(page.locator("#status")).to_contain_text("1 skipped")
    status = SenseIndex.open(path).review_status("mole")
    assert status["by_person"] == 11 and status["skipped"] == 1
    stored = review_labels(path, "mole")
    assert stored == first | {o: s for o, s in second.items() if s != "skip"}
    expect(page.locator('#review-status [data-stat="by_person"]')).to_have_text("11")
    expect(page.locator('#review-status [data-stat="skipped"]')).to_have_text("1")
    assert not {int(x) for x in rows.evaluate_all("rs => rs.map(r => r.dataset.oid)")} & (set(first) | set(second))
    # the stopping rule, with its figures; correcting a stored answer; undoing, newest first
    expect(page.locator("#stop")).to_contain_text("predictions for the rest unchanged over the last")
    assert page.locator("#stop").inner_text().startswith(("you can stop here", "keep going"))
    expect(page.locator("#answered tbody tr")).to_have_count(11)
    edited = page.locator("#answered tbody tr").first
    oid = int(edited.get_attribute("data-oid"))
    other = next(s for s in page.locator("#choices .sense").all_inner_texts() if s != stored[oid])
    edited.locator("select.edit").select_option(other)
    expect(page.locator("#status")).to_contain_text(f"answer changed to {other}")
    assert review_labels(path, "mole")[oid] == other
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("u")  # the correction
    expect(page.locator("#status")).to_contain_text("undone: 1 answer(s)")
    assert review_labels(path, "mole") == stored
    page.keyboard.press("u")  # the second batch, its skip too
    expect(page.locator("#status")).to_contain_text("undone: 6 answer(s)")
    assert review_labels(path, "mole") == first
    status = SenseIndex.open(path).review_status("mole")
    assert status["by_person"] == 6 and status["skipped"] == 0
    expect(page.locator('#review-status [data-stat="by_person"]')).to_have_text("6")
    assert axe_violations(page) == []


def test_active_review_on_a_read_only_server_stores_nothing(page, served_unlabelled, mpnet_encoder):
    from playwright.sync_api import expect

    from test_web_api import running

    _, path, _ = served_unlabelled
    before = SenseIndex.open(path).review_status("bank")
    with running(create_app({"demo": path}, encoder=mpnet_encoder, read_only=True, warm=False)) as base:
        page.goto(f"{base}/review?word=bank&n=3")
        expect(page.locator("#questions tbody tr.q")).to_have_count(3)
        expect(page.locator("#status")).to_contain_text("answering is disabled")
        assert page.locator("select.answer, #new-sense, #store-answers").count() == 0
        for key in ("j", "1", "n", "s", "Enter"):
            page.keyboard.press(key)
        expect(page.locator("#questions tbody tr.q").nth(0)).to_have_class(re.compile(r"\bcurrent\b"))
    assert SenseIndex.open(path).review_status("bank") == before


# --- safety and every page ----------------------------------------------------------------------------
def test_markup_in_the_corpus_is_text_and_opens_no_dialog(page, served):
    from playwright.sync_api import expect

    base, _ = served
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{base}/search?q=The+[parrot]+repeated+it&k=10")
    expect(page.locator("#results")).to_contain_text("<script>alert(1)</script>")
    expect(page.locator("#results")).to_contain_text("<img src=x onerror=alert(2)>")
    page.goto(f"{base}/senses?word=parrot")
    expect(page.locator("main")).to_contain_text("<script>alert(1)</script>")
    for i in range(page.locator("#plot circle.pt").count()):
        page.locator("#plot circle.pt").nth(i).click()
    expect(page.locator("#plot-line")).to_contain_text("parrot")
    page.goto(f"{base}/explain?s=The+[parrot]+said+<script>alert(3)</script>&s=A+[parrot]+<b>flew</b>")
    expect(page.locator("ol.sentences")).to_contain_text("<script>alert(3)</script>")
    page.wait_for_timeout(300)
    assert dialogs == []
    assert page.evaluate("document.querySelectorAll('main script, main img, main b').length") == 0


def test_every_page_renders_without_console_errors(page, served, tmp_path):
    base, _ = served
    explain = ("/explain?s=I+have+a+[mole]+on+my+hip&s=The+[mole]+dug+tunnels+under+the+lawn+at+the+zoo"
               "&s=One+[mole]+of+carbon+weighs+twelve+grams&s=The+agency+discovered+a+[mole]+in+its+ranks")
    for name, url in [("home", "/"), ("search-empty", "/search"), ("senses-empty", "/senses"), ("review-empty", "/review"),
                      ("explain", explain), ("info", "/info"), ("api", "/api"), ("senses", "/senses?word=mole")]:
        response = page.goto(base + url)
        assert response.ok, url
        page.wait_for_load_state("networkidle")
        assert axe_violations(page) == [], url  # axe-core: no serious or critical violation
        if name in ("explain", "info", "api", "senses"):
            shot(page, name, tmp_path, full_page=name in ("explain",))
    # the review part of the senses page, with a line in focus, as a reviewer sees it
    page.locator("#review-bar").scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, document.querySelector('#review-bar').getBoundingClientRect().top - 60)")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.locator("#plot circle.pt").first.dispatch_event("click")
    shot(page, "review", tmp_path)
    assert httpx.get(f"{base}/api/info").json()["documents"] == 6


# --- issue 22: the dictionary on the pages -------------------------------------------------------------
def test_wordnet_senses_with_glosses_on_search_senses_review_and_explain(page, served, mpnet_encoder, tmp_path):
    from playwright.sync_api import expect

    base, path = served
    si = SenseIndex.open(path, encoder=mpnet_encoder)
    wordnet = {w["key"]: w for w in si.wordnet_senses("mole", "n")}
    # search: every line names the WordNet sense its vector is nearest; the skin lines read as the skin sense
    page.goto(f"{base}/search?q={MOLE}&k=20")
    keys = page.locator("#results tbody td.wordnet .synset").evaluate_all("els => els.map(e => e.title.split(' ')[0])")
    labels = [t.strip() for t in page.locator("#results tbody td.label").all_inner_texts()]
    assert len(keys) == len(labels) == 20 and set(keys) <= set(wordnet)
    skin = [k for k, lab in zip(keys, labels, strict=True) if lab == "skin"]
    spot = next(k for k, w in wordnet.items() if "skin" in w["gloss"])
    assert len(skin) >= 10 and sum(k == spot for k in skin) >= 0.8 * len(skin), (skin, spot)
    expect(page.locator("#wordnet-senses li")).to_have_count(len(wordnet))
    page.locator("#wordnet-senses summary").click()
    expect(page.locator(f"#wordnet-senses li[data-key='{spot}'] .gloss")).to_have_text(wordnet[spot]["gloss"])
    shot(page, "search-wordnet", tmp_path)
    # senses: each cluster beside its best WordNet senses, as the API gives them
    page.goto(f"{base}/senses?word=mole")
    api = httpx.get(f"{base}/api/senses", params={"word": "mole"}).json()["dictionary"]
    for c in api["clusters"]:
        shown = page.locator(f"#dictionary-{c['cluster']} li").evaluate_all("els => els.map(e => e.dataset.key)")
        assert shown == [w["key"] for w in c["senses"]]
        assert (page.locator(f"#dictionary-{c['cluster']} .new-sense").count() == 1) == c["new_sense"]
    # review: WordNet's senses of the word to read while answering
    page.goto(f"{base}/review?word=mole")
    expect(page.locator("#wordnet-senses li")).to_have_count(len(si.wordnet_senses("mole")))
    # explain: same WordNet sense or not, beside the cosine, as the API says
    sentences = ["I have a [mole] on my hip", "A [mole] appeared on her arm",
                 "One [mole] of carbon weighs twelve grams", "The agency discovered a [mole] in its ranks"]
    page.goto(f"{base}/explain?" + "&".join(f"s={s}" for s in sentences))
    same = httpx.get(f"{base}/api/explain", params={"s": sentences}).json()["same_wordnet_sense"]
    cells = page.locator("#same-sense td").evaluate_all("els => els.map(e => e.className)")
    assert cells == ["na" if x is None else "same" if x else "different" for row in same for x in row]
    assert cells[0] == "same" and cells[2] == "different"  # 1 and 3: skin and chemistry
    expect(page.locator("#wordnet-senses tbody tr")).to_have_count(4)
    assert axe_violations(page) == []
    shot(page, "explain-wordnet", tmp_path, full_page=True)


# --- issue 23: a concordance a lexicographer can trust ---------------------------------------------
def axe_violations(pg) -> list[str]:
    """Serious and critical axe-core violations of the page (axe.min.js from axe-playwright-python,
    evaluated through the DevTools protocol, which the page's CSP does not govern)."""
    import axe_playwright_python

    if not pg.evaluate("typeof window.axe !== 'undefined'"):
        pg.evaluate((Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8"))
    result = pg.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes'][:3]]}"
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def count(pg, name: str) -> int:
    return int(pg.locator(f"[data-count={name}]").inner_text().replace(",", ""))


def test_complete_concordance_filters_chips_sorts_cql_and_axe(page, served):
    from playwright.sync_api import expect

    base, _ = served
    page.goto(f"{base}/search?q={MOLE}")
    assert (count(page, "matching"), count(page, "total")) == (60, 61)  # every noun line, and says so
    assert "1 tagged otherwise left out" in page.locator("#pos-filter").inner_text()
    assert page.locator("#results tbody tr").count() == 50 and "page 1 of 2" in page.inner_text("nav.pages")
    expect(page.locator("#targets[data-checked='1']")).to_have_count(1)  # chips: only indexed words are buttons
    assert page.locator("#targets button.tok").all_inner_texts() == ["mole"]
    assert page.locator("#targets span.tok.missing").count() == 6
    with page.expect_navigation():
        page.select_option("#filter-label", "spy")  # a filter the old cap of 50 would have cut to 13
    assert count(page, "matching") == 15 and page.locator("#results tbody tr").count() == 15
    with page.expect_navigation():
        page.click("#search-form button[type=submit]")  # resubmitting keeps the filter
    assert "label=spy" in page.url and count(page, "matching") == 15
    with page.expect_navigation():
        page.click("#any-pos")  # widen the part of speech
    assert "every part of speech" in page.inner_text("#pos-filter")
    with page.expect_navigation():
        page.select_option("#filter-label", "")
    assert count(page, "matching") == 61
    with page.expect_navigation():
        page.click("a[data-sort=left2]")
    second = []
    for left in page.locator("#results tbody td.left").all_inner_texts():
        words = re.findall(r"\w+(?:['’-]\w+)*", left.lower().replace("…", " "))
        second.append(words[-2] if len(words) >= 2 else "\uffff")
    assert second == sorted(second)
    row = page.locator("#results tbody tr").first
    left_words = row.locator("td.left").inner_text().lstrip("…").split()
    row.locator("td.right").click()  # a line opens its sentence with its neighbours
    expect(page.locator("#sentence-view")).to_be_visible()
    current = page.locator("#sentence-view p.current-sentence").inner_text()
    assert f"{left_words[-1]} {row.locator('td.kw').inner_text()}" in current
    assert page.locator("#sentence-view p").count() >= 3  # the document's name, the sentence, a neighbour
    page.keyboard.press("Escape")
    assert axe_violations(page) == []
    page.goto(f"{base}/search?cql=" + '[lemma="mole" %26 label="spy"]')
    assert count(page, "matching") == 15 and "corpus order" in page.inner_text("#summary")
    bad = httpx.get(f"{base}/search", params={"cql": '[lemma="mole" & pos=NOUN]'})  # (a 400 logs a console error)
    assert bad.status_code == 400 and "position 21 (marked ‸): [lemma=&#34;mole&#34; &amp; pos=‸NOUN]" in bad.text


def test_phone_layout_senses_collocates_review_numbers_and_axe(browser, served, served_unlabelled, tmp_path):
    base, _ = served
    context = browser.new_context(viewport={"width": 390, "height": 844})
    pg = context.new_page()
    problems: list[str] = []
    pg.on("pageerror", lambda e: problems.append(str(e)))
    pg.goto(f"{base}/search?q={MOLE}")
    boxes = [pg.locator(f"#results tbody tr >> nth=0 >> td.{c}").bounding_box() for c in ("left", "kw", "right")]
    assert boxes[0]["width"] > 100 and boxes[2]["width"] > 100 and boxes[1]["width"] > 20, boxes  # context keeps width
    assert pg.evaluate("document.documentElement.scrollWidth") <= 400  # no sideways scrolling
    shot(pg, "phone-search", tmp_path)
    assert axe_violations(pg) == []
    context.close()
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    pg.on("pageerror", lambda e: problems.append(str(e)))
    pg.goto(f"{base}/senses?word=mole")
    keys = pg.locator("table.clusters span.key").all_inner_texts()
    assert keys == [str(i) for i in range(1, len(keys) + 1)]
    assert pg.locator("table.collocates").count() == len(keys)  # side by side, one per sense
    assert pg.locator("table.collocates tbody tr").count() > len(keys)
    assert "per million of" in pg.inner_text("#frequency")
    names = pg.locator("table.clusters a.cname-link").all_inner_texts()
    assert not any(w in n.split("/") for n in names for w in ("every", "year", "keep")), names
    assert axe_violations(pg) == []
    base2, _, _ = served_unlabelled
    pg.goto(f"{base2}/review?word=mole")
    reasons = pg.locator("table.kwic.review small.reason").all_inner_texts()
    assert any(r.startswith("cluster ") for r in reasons) and "cluster 0" not in reasons  # 1-based, as Senses
    assert axe_violations(pg) == []
    context.close()
    assert problems == []


def test_a_saved_subcorpus_limits_the_concordance(page, served, mpnet_encoder, tmp_path):
    """Document metadata from a sidecar file, a subcorpus saved from it, and the search page
    limited to it: every line comes from its documents, the counts are the subcorpus's, and the
    selection stays in the form."""
    base, path = served
    side = tmp_path / "years.tsv"
    side.write_text("file\tyear\na.txt\t1990\nb.txt\t2005\nc.txt\t1995\nd.txt\t2010\ne.txt\t1985\n", encoding="utf-8")
    si = SenseIndex.open(path, encoder=mpnet_encoder)
    si.import_metadata(side)
    si.save_subcorpus("recent", "year >= 2000")
    expected = si.concordance(MOLE, where="@recent")
    assert 0 < expected.matching < si.concordance(MOLE).matching
    page.goto(f"{base}/search?q={MOLE}&where=%40recent&per=200")
    assert count(page, "matching") == expected.matching
    places = page.locator("#results tbody td.where").all_inner_texts()
    assert len(places) == expected.matching and all(p.split(":")[0] in ("b.txt", "d.txt") for p in places), places
    assert page.locator("#where").input_value() == "@recent"
