"""The pytest plugin, used as another project would: test projects written to a temporary folder
and run with pytester, finding the fixtures through the installed `pytest11` entry point."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from importlib.metadata import entry_points
from urllib.parse import urlsplit

import httpx
import pytest

from syncmap_tui.pytest_plugin import _LoopbackServer, _serve

def run_project(pytester, *args: str):
    """Run the test project in a pytest of its own, which finds the fixtures through the installed
    entry point. Not in-process: pytester then drops from sys.modules every module first imported
    during the run (httpcore, uvicorn, twilio), and the tests after it would see a second copy of
    each, with exception classes that no longer match (measured: test_client's refused
    connection stopped being an httpx.ConnectError)."""
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *other_plugins_off(), *args)


def other_plugins_off() -> list[str]:
    """`-p no:<name>` for every installed pytest plugin but ours: this suite's own (Hypothesis,
    Schemathesis, the snapshot plugins, xdist…), which a project using ours need not have. Loading
    them took ~2.1 s of the ~2.4 s of CPU a project's pytest run cost (measured), for each run."""
    return [
        option
        for entry in entry_points(group="pytest11")
        if entry.value != "syncmap_tui.pytest_plugin"
        for option in ("-p", f"no:{entry.name}")
    ]


TWILIO_PROJECT = '''
import pytest
from twilio.base.exceptions import TwilioRestException


def test_create_a_service_a_map_and_an_item_then_a_stale_write_is_refused(sync_emulator):
    client = sync_emulator.twilio_client()
    service = client.sync.v1.services.create(friendly_name="plugin test")
    sync_map = client.sync.v1.services(service.sid).sync_maps.create(unique_name="settings")
    items = client.sync.v1.services(service.sid).sync_maps(sync_map.sid).sync_map_items
    created = items.create(key="colour", data={"value": "red"})
    updated = items("colour").update(data={"value": "green"}, if_match=created.revision)
    assert updated.revision != created.revision

    with pytest.raises(TwilioRestException) as refused:
        items("colour").update(data={"value": "blue"}, if_match=created.revision)
    assert (refused.value.status, refused.value.code) == (412, 54205)
    assert items("colour").fetch().data == {"value": "green"}
'''


def test_a_project_that_uses_only_the_fixture_and_twilio_python(pytester):
    pytester.makepyfile(test_twilio=TWILIO_PROJECT)
    run_project(pytester).assert_outcomes(passed=1)


def test_the_plugin_is_inert_until_a_fixture_is_used(pytester):
    pytester.makepyfile(
        test_unrelated="""
        import sys
        import threading

        def test_nothing_of_the_emulator_was_loaded_or_started():
            heavy = ("syncmap_tui.emulator", "uvicorn", "starlette", "textual", "twilio")
            assert sorted(name for name in heavy if name in sys.modules) == []
            assert "sync-emulator" not in {thread.name for thread in threading.enumerate()}
        """
    )
    # The other plugins are off (the snapshot plugin imports Textual itself): this checks what ours imports.
    result = run_project(pytester)
    result.assert_outcomes(passed=1)
    assert "syncmap" in "\n".join(result.outlines)  # the plugin is listed: it was loaded, and did nothing


def test_importing_the_plugin_imports_only_itself():
    code = "import sys, pytest; before = set(sys.modules); import syncmap_tui.pytest_plugin; print(sorted(set(sys.modules) - before))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "['syncmap_tui', 'syncmap_tui.pytest_plugin']"


def test_each_test_gets_an_emulator_of_its_own(pytester):
    pytester.makepyfile(
        test_isolation="""
        import httpx

        kept = []

        def test_first(sync_emulator):
            sync_emulator.seed({"svc": {"map": {"k": {"n": 1}}}})
            kept.append(sync_emulator)

        def test_second(sync_emulator):
            assert sync_emulator is not kept[0]
            auth = (sync_emulator.account_sid, sync_emulator.auth_token)
            with httpx.Client(base_url=sync_emulator.base_url, auth=auth, trust_env=False) as client:
                assert client.get("/v1/Services").json()["services"] == []
        """
    )
    run_project(pytester).assert_outcomes(passed=2)


def test_an_emulator_is_unreachable_once_its_test_has_ended():
    server = _LoopbackServer().start()
    try:
        serving = _serve(server)
        emulator = next(serving)
        auth = (emulator.account_sid, emulator.auth_token)
        with httpx.Client(base_url=emulator.base_url, auth=auth, trust_env=False, timeout=10) as client:
            assert client.get("/v1/Services").status_code == 200
            serving.close()  # the test's teardown
            ended = client.get("/v1/Services")
            assert (ended.status_code, ended.json()["code"]) == (503, 20503)
    finally:
        server.stop()
    host, port = urlsplit(emulator.base_url).hostname, urlsplit(emulator.base_url).port
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((host, port), timeout=5)


def test_a_request_still_on_its_way_when_its_test_ends_is_answered(caplog):
    """A request the test left in flight (a thread, a slow fault) was handled after the teardown
    had closed the data: a bare "Internal Server Error" 500, and "Cannot operate on a closed
    database" logged as an error into the next test's output."""
    server = _LoopbackServer().start()
    try:
        serving = _serve(server)
        emulator = next(serving)
        emulator.set_faults(latency=0.5)
        auth = (emulator.account_sid, emulator.auth_token)
        answers: list[httpx.Response] = []
        with httpx.Client(base_url=emulator.base_url, auth=auth, trust_env=False, timeout=10) as client:
            left_in_flight = threading.Thread(target=lambda: answers.append(client.get("/v1/Services")))
            left_in_flight.start()
            time.sleep(0.2)  # the request has arrived and waits out its latency
            serving.close()  # the test's teardown
            left_in_flight.join(10)
        assert [answer.status_code for answer in answers] == [200]
    finally:
        server.stop()
    assert [record.getMessage() for record in caplog.records if record.levelname == "ERROR"] == []


def test_the_session_emulator_is_shared_by_every_test(pytester):
    pytester.makepyfile(
        test_session="""
        seen = []

        def test_seed_once(sync_emulator_session):
            sids = sync_emulator_session.seed({"shared": {"settings": {"mode": {"dark": True}}}}, demo=True)
            seen.append((sync_emulator_session.base_url, sids["shared"]))

        def test_see_it_later(sync_emulator_session):
            base_url, service_sid = seen[0]
            assert sync_emulator_session.base_url == base_url
            services = sync_emulator_session.twilio_client().sync.v1.services
            item = services(service_sid).sync_maps("settings").sync_map_items("mode").fetch()
            assert item.data == {"dark": True}
            assert {"demo-store", "shared"} <= {service.unique_name for service in services.list()}
        """
    )
    run_project(pytester).assert_outcomes(passed=2)


def test_faults_and_rate_limits_from_the_test(pytester):
    pytester.makepyfile(
        test_faults="""
        import pytest
        import requests
        from twilio.base.exceptions import TwilioRestException


        @pytest.fixture
        def items(sync_emulator):
            sids = sync_emulator.seed({"shop": {"settings": {"colour": {"value": "red"}}}})
            return sync_emulator.twilio_client().sync.v1.services(sids["shop"]).sync_maps("settings").sync_map_items


        def test_a_failure_then_a_success(sync_emulator, items):
            sync_emulator.set_faults(fail_next=1)
            with pytest.raises(TwilioRestException) as failed:
                items("colour").fetch()
            assert failed.value.status == 503
            assert items("colour").fetch().data == {"value": "red"}


        def test_a_dropped_connection(sync_emulator, items):
            sync_emulator.faults.drop_next = 1
            with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
                items("colour").fetch()
            assert items("colour").fetch().data == {"value": "red"}


        def test_a_write_whose_answer_is_lost_was_applied(sync_emulator, items):
            sync_emulator.set_faults(fail_next=1, methods="POST", after_commit=True)
            with pytest.raises(TwilioRestException):
                items("colour").update(data={"value": "green"})
            assert items("colour").fetch().data == {"value": "green"}


        def test_invalid_fault_settings_change_nothing(sync_emulator, items):
            with pytest.raises(ValueError, match="fail_status"):
                sync_emulator.set_faults(fail_next=1, fail_status=404)
            assert sync_emulator.faults.fail_next == 0
            assert items("colour").fetch().data == {"value": "red"}


        def test_the_write_rate_limit(sync_emulator, items):
            sync_emulator.limit_writes(1, burst_seconds=1)
            items("colour").update(data={"value": "green"})
            with pytest.raises(TwilioRestException) as limited:
                items("colour").update(data={"value": "blue"})
            assert (limited.value.status, limited.value.code) == (429, 54009)
            sync_emulator.clear_faults()
            items("colour").update(data={"value": "blue"})
        """
    )
    run_project(pytester).assert_outcomes(passed=5)


def test_seed_obeys_the_api_rules(pytester):
    pytester.makepyfile(
        test_seed="""
        import pytest

        def test_refusals(sync_emulator):
            sids = sync_emulator.seed({"svc": {"map": {"k": {"n": 1}}}})
            with pytest.raises(ValueError, match="already holds"):
                sync_emulator.seed({"svc": {"map": {"k": {"n": 2}}}})
            with pytest.raises(ValueError, match="top level must be a JSON object"):
                sync_emulator.seed({"svc": {"map": {"list": [1, 2]}}})
            with pytest.raises(ValueError):
                sync_emulator.seed({"svc": {"map": {"x" * 321: {}}}})
            with pytest.raises(ValueError):
                sync_emulator.seed({"svc": {"map": {"big": {"blob": "x" * 16_384}}}})
            sync_emulator.seed({"svc": {"map": {"k2": {"n": 2}}}})
            assert sync_emulator.seed({"svc": {}}) == sids  # the service and map are reused
            items = sync_emulator.twilio_client().sync.v1.services(sids["svc"]).sync_maps("map").sync_map_items
            assert [item.key for item in items.list()] == ["k", "k2"]
        """
    )
    run_project(pytester).assert_outcomes(passed=1)


def test_the_twilio_client_ignores_edge_region_and_proxy_settings(pytester):
    pytester.makepyfile(
        test_environment="""
        def test_environment(sync_emulator, monkeypatch):
            monkeypatch.setenv("TWILIO_EDGE", "dublin")
            monkeypatch.setenv("TWILIO_REGION", "ie1")
            monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
            monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
            service = sync_emulator.twilio_client().sync.v1.services.create(friendly_name="x")
            assert service.url.startswith(sync_emulator.base_url + "/v1/Services/")
        """
    )
    run_project(pytester).assert_outcomes(passed=1)


def test_without_twilio_python_the_error_says_how_to_install_it(pytester):
    pytester.makepyfile(
        test_missing="""
        import sys
        import pytest

        def test_missing(sync_emulator, monkeypatch):
            for name in [name for name in sys.modules if name == "twilio" or name.startswith("twilio.")]:
                monkeypatch.delitem(sys.modules, name)
            monkeypatch.setitem(sys.modules, "twilio", None)  # as if it were not installed
            with pytest.raises(ImportError, match="pip install twilio"):
                sync_emulator.twilio_client()
        """
    )
    run_project(pytester).assert_outcomes(passed=1)
