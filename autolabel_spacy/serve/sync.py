"""Catching up with Label Studio: the annotations made while no webhook
could reach the backend (it was stopped, restarting, or refused a webhook
without credentials), and the deletions Label Studio sends no project
webhook for (deleting all of a project's tasks at once).

With ``serve --label-studio URL`` and an API key (``LABEL_STUDIO_API_KEY``:
a legacy token, or a personal access token, which is exchanged for an
access token as Label Studio's API asks), the backend reads each project it
knows through Label Studio's export API (``GET
/api/projects/<id>/export?exportType=JSON``) when it starts and before each
update, and replaces what it keeps of the project by what the project
holds (``AnnotationStore.replace_project``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Optional

import requests

log = logging.getLogger("autolabel.serve")


class SyncError(RuntimeError):
    """Label Studio could not be read (unreachable, refused, not JSON)."""


@dataclass
class LabelStudioClient:
    url: str
    api_key: str
    timeout: float = 60.0

    def __post_init__(self) -> None:
        self.url = self.url.rstrip("/")
        self._session = requests.Session()

    def _authorization(self) -> str:
        if self.api_key.count(".") == 2:  # a personal access token (a JWT refresh token): exchanged for an access token
            answer = self._post("/api/token/refresh", {"refresh": self.api_key})
            if "access" not in answer:
                raise SyncError(f"{self.url}: the personal access token was refused ({answer})")
            return f"Bearer {answer['access']}"
        return f"Token {self.api_key}"

    def _post(self, path: str, body: dict) -> dict:
        try:
            response = requests.post(self.url + path, json=body, timeout=self.timeout)
            return response.json()
        except (requests.RequestException, ValueError) as err:
            raise SyncError(f"{self.url}{path}: {err}") from None

    def _get(self, path: str, **params):
        if "Authorization" not in self._session.headers:  # on first use: Label Studio may start after the backend
            self._session.headers["Authorization"] = self._authorization()
        try:
            response = self._session.get(self.url + path, params=params, timeout=self.timeout)
        except requests.RequestException as err:
            raise SyncError(f"{self.url}{path}: {err}") from None
        if response.status_code != 200:
            raise SyncError(f"{self.url}{path}: {response.status_code} {response.text[:200]}")
        try:
            return response.json()
        except ValueError:
            raise SyncError(f"{self.url}{path}: the answer is not JSON") from None

    def project(self, project) -> dict:
        """The project (its ``label_config`` among the rest)."""
        answer = self._get(f"/api/projects/{project}")
        if not isinstance(answer, dict):
            raise SyncError(f"{self.url}/api/projects/{project}: not a project")
        return answer

    def export(self, project) -> list[dict]:
        """The project's tasks that have annotations, as its JSON export has them."""
        tasks = self._get(f"/api/projects/{project}/export", exportType="JSON")
        if not isinstance(tasks, list):
            raise SyncError(f"{self.url}/api/projects/{project}/export: the export is not a list of tasks")
        return tasks


def sync_projects(client: Optional[LabelStudioClient], store, projects) -> dict:
    """Replace each project's annotations in ``store`` by its export; a
    project that cannot be read keeps what the store has (and is logged)."""
    done = {}
    if client is None:
        return done
    for project in sorted(set(projects)):
        try:
            store.note_project(client.project(project))
            tasks = client.export(project)
        except SyncError as err:
            log.warning(
                "could not read project %s from Label Studio, keeping the annotations received (%s)", project, err
            )
            continue
        done[project] = store.replace_project(project, tasks)
        if done[project]:
            log.info("project %s: %d annotations caught up from Label Studio's export", project, done[project])
    return done
