"""The copied curl command, run as the user would (a POSIX shell, real curl, credentials in the
environment) against an emulator served over HTTP: it updates the item, and a stale one gets 412."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from syncmap_tui.sync.shell_commands import ItemUpdate, curl_command

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")

HOSTILE = {"note": "it's \"$(touch pwned)\" `id` $HOME \\ \n é 🎉 \u202e \x1b[31m", "n": 2}


def run(command: str, emulator, cwd) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ["PATH"],
        "TWILIO_ACCOUNT_SID": emulator.account_sid,
        "TWILIO_AUTH_TOKEN": emulator.auth_token,
    }
    return subprocess.run(["sh", "-c", command], env=env, capture_output=True, text=True, timeout=30, cwd=cwd)


def the_item(emulator, key: str):
    return emulator.twilio_client().sync.v1.services("svc").sync_maps("orders").sync_map_items(key).fetch()


def test_the_copied_curl_command_updates_the_item(sync_emulator, tmp_path):
    service_sid = sync_emulator.seed({"svc": {"orders": {"o-1": {"status": "new"}}}})["svc"]
    item = the_item(sync_emulator, "o-1")
    command = curl_command(
        sync_emulator.base_url,
        ItemUpdate(service_sid, item.map_sid, "o-1", item.revision, HOSTILE, item_ttl=3600),
        uses_api_key=False,
    )
    done = run(command, sync_emulator, tmp_path)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["data"] == HOSTILE
    after = the_item(sync_emulator, "o-1")
    assert after.data == HOSTILE and after.revision != item.revision and after.date_expires is not None
    assert list(tmp_path.iterdir()) == []


def test_the_copied_curl_command_on_a_stale_revision_gets_412(sync_emulator, tmp_path):
    service_sid = sync_emulator.seed({"svc": {"orders": {"o-1": {"status": "new"}}}})["svc"]
    loaded = the_item(sync_emulator, "o-1")
    # Someone else saves after the editor loaded revision `loaded.revision`.
    sync_emulator.twilio_client().sync.v1.services("svc").sync_maps("orders").sync_map_items("o-1").update(
        data={"status": "shipped"}
    )
    command = curl_command(
        sync_emulator.base_url,
        ItemUpdate(service_sid, loaded.map_sid, "o-1", loaded.revision, {"status": "cancelled"}),
        uses_api_key=False,
    )
    done = run(command, sync_emulator, tmp_path)
    assert done.returncode == 22  # curl --fail-with-body: HTTP error
    assert json.loads(done.stdout)["status"] == 412
    assert the_item(sync_emulator, "o-1").data == {"status": "shipped"}  # their change stands


def test_without_the_credentials_in_the_environment_nothing_is_written(sync_emulator, tmp_path):
    service_sid = sync_emulator.seed({"svc": {"orders": {"o-1": {"status": "new"}}}})["svc"]
    item = the_item(sync_emulator, "o-1")
    command = curl_command(
        sync_emulator.base_url, ItemUpdate(service_sid, item.map_sid, "o-1", item.revision, {"x": 1}), uses_api_key=False
    )
    done = subprocess.run(["sh", "-c", command], env={"PATH": os.environ["PATH"]}, capture_output=True, text=True, timeout=30)
    assert done.returncode == 22
    assert json.loads(done.stdout)["status"] == 401
    assert the_item(sync_emulator, "o-1").data == {"status": "new"}
