"""Upload a dataset folder (its files and card) to the Hugging Face Hub."""

from __future__ import annotations

import os
from pathlib import Path


class HubError(RuntimeError):
    """The Hub could not be reached, or refused the upload."""


def push_dataset(folder: Path, repo_id: str, files: list[str]) -> str:
    """Create the dataset repository if needed and upload `files`, README.md and the charts it shows in one commit;
    returns its URL."""
    import httpx
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    endpoint = os.environ.get("HF_ENDPOINT") or "https://huggingface.co"
    api = HfApi(endpoint=endpoint, token=os.environ.get("HF_TOKEN"))
    try:
        api.create_repo(repo_id, repo_type="dataset", exist_ok=True)
        api.upload_folder(folder_path=str(folder), repo_id=repo_id, repo_type="dataset",
                          allow_patterns=[*files, "README.md", "charts/*.png"], commit_message="Upload preference data made by fellowship")
    except HfHubHTTPError as exc:
        raise HubError(f"the Hugging Face Hub at {endpoint} refused the upload to {repo_id}: {exc}") from None
    except (OSError, httpx.TransportError) as exc:  # no network, refused connection, DNS, timeout
        raise HubError(f"could not reach the Hugging Face Hub at {endpoint} ({type(exc).__name__}: {exc}); "
                       f"the files are in {folder}, push them later with "
                       f"`fellowship export --out {folder} --push-to-hub {repo_id}`") from None
    return f"{endpoint}/datasets/{repo_id}"
