"""Fault injection and request counting (issue 3, "Faults, on purpose")."""

from __future__ import annotations

import pytest
import requests

from tests.emulator.conftest import Api

VERSIONS = r"/variables/versions$"


def _statuses(api: Api, count: int, path: str = "variables/versions") -> list[int]:
    return [api.get(f"{api.base}/{path}").status_code for _ in range(count)]


def test_status_faults_have_proxy_or_hopsworks_bodies(api: Api) -> None:
    """500 carries Hopsworks' JSON error body; 502/503 the HTML page a proxy would send."""
    api.emulator.set_faults([{"path": VERSIONS, "sequence": ["500", "502", "503"]}])
    first, second, third, fourth = (api.get(f"{api.base}/variables/versions") for _ in range(4))
    assert first.status_code == 500
    assert first.json()["errorCode"] == 120000
    assert (second.status_code, second.headers["content-type"]) == (502, "text/html")
    assert (third.status_code, third.headers["content-type"]) == (503, "text/html")
    assert "503" in third.text
    assert fourth.status_code == 200


def test_429_carries_retry_after(api: Api) -> None:
    api.emulator.set_faults([{"path": VERSIONS, "fault": "429:3", "times": 1}])
    limited = api.get(f"{api.base}/variables/versions")
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "3"
    assert api.get(f"{api.base}/variables/versions").status_code == 200


def test_dropped_connection_is_a_client_connection_error(api: Api) -> None:
    """``drop`` closes the socket without an answer: requests raises ConnectionError."""
    api.emulator.set_faults([{"path": VERSIONS, "fault": "drop", "times": 1}])
    with pytest.raises(requests.exceptions.ConnectionError):
        api.get(f"{api.base}/variables/versions")
    assert api.get(f"{api.base}/variables/versions").status_code == 200


def test_stall_makes_a_client_time_out(api: Api) -> None:
    api.emulator.set_faults([{"path": VERSIONS, "fault": "stall:1.5", "times": 1}])
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.get(f"{api.base}/variables/versions", timeout=0.3)
    assert api.get(f"{api.base}/variables/versions").status_code == 200


def test_failure_after_the_work_is_done_leaves_the_side_effect(api: Api, job_name: str) -> None:
    """``drop@after``: the execution is created, the client only sees a dropped connection."""
    api.python_job(job_name, "print(1)\n")
    api.emulator.reset_counters()
    api.emulator.set_faults([{"method": "POST", "path": r"/executions$", "fault": "drop@after", "times": 1}])
    with pytest.raises(requests.exceptions.ConnectionError):
        api.post(f"jobs/{job_name}/executions", data="", headers={"Content-Type": "text/plain"})
    assert api.emulator.executions_started(job_name) == 1
    listed = api.get(f"jobs/{job_name}/executions").json()
    assert listed["count"] == 1
    api.wait(job_name, listed["items"][0]["id"])


def test_rules_are_scoped_by_method_and_path(api: Api, job_name: str) -> None:
    api.python_job(job_name, "print(1)\n")
    api.emulator.set_faults([{"method": "POST", "path": r"/executions$", "fault": "503"}])
    assert api.get(f"jobs/{job_name}/executions").status_code == 200
    assert api.get(f"jobs/{job_name}").status_code == 200
    assert (
        api.post(f"jobs/{job_name}/executions", data="", headers={"Content-Type": "text/plain"}).status_code
        == 503
    )
    assert api.emulator.executions_started(job_name) == 0


def test_random_faults_are_reproducible_with_a_seed(api: Api) -> None:
    """The same seed and request sequence give the same faults; another seed gives others."""
    rules = [{"path": VERSIONS, "rate": 0.5, "fault": ["500", "503"]}]
    api.emulator.set_faults(rules, seed=7)
    first = _statuses(api, 40)
    api.emulator.set_faults(rules, seed=7)
    again = _statuses(api, 40)
    api.emulator.set_faults(rules, seed=8)
    other = _statuses(api, 40)
    assert first == again
    assert first != other
    assert {200, 500, 503} <= set(first)


def test_repeating_sequence(api: Api) -> None:
    api.emulator.set_faults([{"path": VERSIONS, "sequence": ["503", "ok"], "repeat": True}])
    assert _statuses(api, 5) == [503, 200, 503, 200, 503]


def test_request_counts_per_route_template(api: Api, job_name: str) -> None:
    """Counts are keyed "<METHOD> <route template>"; faulted requests count; admin calls do not."""
    api.python_job(job_name, "print(1)\n")
    api.emulator.reset_counters()
    api.get(f"jobs/{job_name}")
    api.get(f"jobs/{job_name}")
    api.emulator.set_faults([{"path": r"/executions$", "method": "POST", "fault": "503", "times": 1}])
    api.post(f"jobs/{job_name}/executions", data="", headers={"Content-Type": "text/plain"})
    execution = api.start(job_name)
    api.get("no/such/thing")
    counts = api.emulator.request_counts()
    assert counts["GET /hopsworks-api/api/project/{id}/jobs/{name}"] == 2
    assert counts["POST /hopsworks-api/api/project/{id}/jobs/{name}/executions"] == 2
    assert counts[f"GET /hopsworks-api/api/project/{api.emulator.project_id}/no/such/thing"] == 1
    assert not any(key.split(" ", 1)[1].startswith("/_emulator") for key in counts)
    assert api.emulator.executions_started(job_name) == 1
    assert api.emulator.executions_started() == 1
    api.emulator.reset_counters()
    assert api.emulator.request_counts() == {}
    api.wait(job_name, execution["id"])


def test_admin_routes_need_the_admin_scope_and_reject_bad_rules(api: Api) -> None:
    url = f"{api.emulator.base_url}/_emulator/faults"
    rules = {"rules": [{"fault": "503"}]}
    assert requests.put(url, json=rules, timeout=10).status_code == 401
    job_only = api.emulator.create_api_key(["JOB"])
    denied = requests.put(url, json=rules, headers={"Authorization": f"ApiKey {job_only}"}, timeout=10)
    assert (denied.status_code, denied.json()["errorCode"]) == (403, 320004)
    for bad in (
        {"rules": [{"fault": "418"}]},
        {"rules": [{"path": "("}]},
        {"rules": [{"fault": "503", "colour": 1}]},
    ):
        response = api.session.put(url, json=bad, timeout=10)
        assert response.status_code == 422, bad
    assert api.emulator.faults()["rules"] == []
    assert requests.get(f"{api.emulator.base_url}/_emulator/health", timeout=10).json()["status"] == "ok"


def test_a_wrong_rule_key_lists_the_accepted_keys(api: Api) -> None:
    """A guessed format (``route``/``status``) is told which keys a rule takes, with an example."""
    from airflow_provider_hopsjobs.emulator.handle import EmulatorError

    with pytest.raises(EmulatorError) as caught:
        api.emulator.set_faults([{"route": "/executions", "status": 503}])
    message = str(caught.value)
    assert "unknown fault rule keys: route, status" in message
    assert "a rule takes path, method, fault, sequence, rate, times, repeat" in message
    assert '"fault": "503"' in message
    assert api.emulator.faults()["rules"] == []
