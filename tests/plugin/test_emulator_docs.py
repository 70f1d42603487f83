"""docs/emulator.md's "What differs from Twilio", kept true: every constant it names has the value
it states, its status table is the code's, every file with a recorded decision is in it, and the
behaviours a request can show are shown (through the `sync_emulator` fixture, as a user would)."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import httpx
import pytest

from syncmap_tui.sync.errors import HTTP_STATUS, TwilioCode

REPO_ROOT = Path(__file__).resolve().parents[2]
DOC = REPO_ROOT / "docs" / "emulator.md"
REFERENCE = re.compile(r"`(?P<name>[A-Za-z_][\w.]*)(?: = (?P<value>[^`]+))?` in\s+`(?P<path>syncmap_tui/[\w/]+\.py)`")
STATUS_ROW = re.compile(r"^\| (?P<code>\d{5}) \| [^|]+ \| (?P<status>\d{3}) \|$", re.MULTILINE)
DECISION_MARKER = re.compile(r"\b[Dd]ecision(?: \([^)]*\))?:")
UNPUBLISHED_STATUS = re.compile(r"TwilioCode\.(?P<name>\w+): \d{3},\s+# decision: unpublished")


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def module_of(path: str):
    return importlib.import_module(path.removesuffix(".py").replace("/", "."))


def test_every_constant_the_list_names_has_the_value_it_states():
    references = list(REFERENCE.finditer(doc_text()))
    assert len([ref for ref in references if ref["value"]]) >= 7, "the list names fewer constants than it did"
    for reference in references:
        target = module_of(reference["path"])
        for part in reference["name"].split("."):
            assert hasattr(target, part), f"{reference['name']} is not in {reference['path']}"
            target = getattr(target, part)
        if reference["value"] is not None:
            assert target == ast.literal_eval(reference["value"]), f"{reference['name']} is {target!r}"


def test_the_status_table_is_the_codes_unpublished_statuses():
    rows = {TwilioCode(int(row["code"])): int(row["status"]) for row in STATUS_ROW.finditer(doc_text())}
    assert rows == {code: HTTP_STATUS[code] for code in rows}
    source = (REPO_ROOT / "syncmap_tui" / "sync" / "errors.py").read_text(encoding="utf-8")
    marked = {TwilioCode[match["name"]] for match in UNPUBLISHED_STATUS.finditer(source)}
    assert set(rows) == marked


def decision_holders(path: Path) -> dict[str, int]:
    """The qualified name of what holds each decision marker in `path` (the constant a docstring
    follows, the function or class a comment or docstring is in), with the marker's line."""
    source = path.read_text(encoding="utf-8")
    spans: list[tuple[int, int, str]] = []

    def visit(body: list[ast.stmt], prefix: str) -> None:
        previous_target = None
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                spans.append((node.lineno, node.end_lineno or node.lineno, prefix + node.name))
                if isinstance(node, ast.ClassDef):  # a function's own assignments are the function's
                    visit(node.body, f"{prefix}{node.name}.")
                previous_target = None
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                target = node.targets[0] if isinstance(node, ast.Assign) else node.target
                previous_target = prefix + target.id if isinstance(target, ast.Name) else None
                if previous_target:
                    spans.append((node.lineno, node.end_lineno or node.lineno, previous_target))
            elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and previous_target:
                spans.append((node.lineno, node.end_lineno or node.lineno, previous_target))  # its docstring
                previous_target = None
            else:
                previous_target = None

    visit(ast.parse(source).body, "")
    holders: dict[str, int] = {}
    for line_number, line in enumerate(source.splitlines(), start=1):
        if DECISION_MARKER.search(line):
            around = [span for span in spans if span[0] <= line_number <= span[1]]
            assert around, f"{path.name}:{line_number} records a decision outside any named thing"
            holders[min(around, key=lambda span: span[1] - span[0])[2]] = line_number
    return holders


def test_every_recorded_decision_is_in_the_list():
    """Each decision marker in emulator/ and sync/errors.py is held by a name the list mentions
    (the name, or the class it is in), next to the file it is in."""
    mentioned = set(re.findall(r"`([A-Za-z_][\w.]*)(?: = [^`]+)?`", doc_text()))
    files = [*sorted((REPO_ROOT / "syncmap_tui" / "emulator").rglob("*.py")), REPO_ROOT / "syncmap_tui" / "sync" / "errors.py"]
    missing = []
    for path in files:
        holders = decision_holders(path)
        if holders:
            assert f"`{path.relative_to(REPO_ROOT)}`" in doc_text(), f"docs/emulator.md does not name {path.name}"
        for name, line_number in holders.items():
            prefixes = {".".join(name.split(".")[:end]) for end in range(1, name.count(".") + 2)}
            if not prefixes & mentioned:
                missing.append(f"{path.relative_to(REPO_ROOT)}:{line_number} {name}")
    assert not missing, "decisions recorded in the code but not in docs/emulator.md: " + ", ".join(missing)


# The behaviours, as a client sees them.


@pytest.fixture
def api(sync_emulator):
    with httpx.Client(
        base_url=sync_emulator.base_url, auth=(sync_emulator.account_sid, sync_emulator.auth_token), trust_env=False, timeout=10
    ) as client:
        yield client


@pytest.fixture
def items(sync_emulator, api) -> str:
    """The path of the items of map "map" in service "svc", holding the item "a"."""
    sync_emulator.seed({"svc": {"map": {"a": {"n": 0}}}})
    return "/v1/Services/svc/Maps/map/Items"


def test_only_services_maps_and_items_are_there(api):
    assert api.post("/v1/Services", data={"UniqueName": "svc"}).status_code == 201
    for collection in ("Documents", "Lists", "Streams"):
        response = api.get(f"/v1/Services/svc/{collection}")
        assert (response.status_code, response.json()["code"]) == (404, 20404)


def test_any_well_formed_api_key_sid_goes_with_the_auth_token(sync_emulator, api):
    assert api.get("/v1/Services", auth=("SK" + "a" * 32, sync_emulator.auth_token)).status_code == 200
    assert api.get("/v1/Services", auth=("SK" + "a" * 31, sync_emulator.auth_token)).status_code == 401
    assert api.get("/v1/Services", auth=("SK" + "a" * 32, "another secret")).status_code == 401


def test_credentials_are_checked_before_the_path(api):
    assert api.get("/v1/NoSuchThing", auth=("AC" + "1" * 32, "wrong")).status_code == 401


def test_a_service_takes_a_unique_name_and_is_found_by_it(api):
    created = api.post("/v1/Services", data={"UniqueName": "named"}).json()
    assert api.get("/v1/Services/named").json()["sid"] == created["sid"]


def test_revisions_count_from_zero_and_if_match_is_exact(api, items):
    assert api.get(f"{items}/a").json()["revision"] == "0"
    map_revision = api.get("/v1/Services/svc/Maps/map").json()["revision"]
    for if_match in ("*", 'W/"0"', "0, 1", "00"):
        response = api.post(f"{items}/a", data={"Data": "{}"}, headers={"If-Match": if_match})
        assert (response.status_code, response.json()["code"]) == (412, 54205), if_match
    assert api.post(f"{items}/a", data={"Data": "{}"}, headers={"If-Match": "0"}).json()["revision"] == "1"
    assert api.get("/v1/Services/svc/Maps/map").json()["revision"] != map_revision


def test_page_size_is_clamped_and_an_empty_from_is_no_from(sync_emulator, api, items):
    sync_emulator.seed({"svc": {"map": {"b": {}, "c": {}}}})
    assert api.get(items).json()["meta"]["page_size"] == 50
    assert api.get(items, params={"PageSize": "1000"}).json()["meta"]["page_size"] == 100
    assert [item["key"] for item in api.get(items, params={"From": ""}).json()["items"]] == ["a", "b", "c"]


def test_faults_act_before_authentication_and_never_on_the_control_endpoint(sync_emulator, api):
    sync_emulator.set_faults(fail_next=1)
    assert api.get("/v1/Services", auth=("AC" + "1" * 32, "wrong")).status_code == 503
    sync_emulator.set_faults(fail_rate=1.0)
    assert api.get("/__emulator__/faults").status_code == 200
    assert api.get("/v1/Services").status_code == 503


def test_a_write_over_the_rate_limit_says_when_to_retry_in_whole_seconds(sync_emulator, api, items):
    sync_emulator.limit_writes(per_second=0.5, burst_seconds=2)
    assert api.post(f"{items}/a", data={"Data": "{}"}).status_code == 200
    limited = api.post(f"{items}/a", data={"Data": "{}"})
    assert (limited.status_code, limited.json()["code"], limited.headers["Retry-After"]) == (429, 54009, "2")
    assert api.get(f"{items}/a").status_code == 200  # reads are not limited
