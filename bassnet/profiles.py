"""Switching the DVC pipeline between profiles (`make repro PROFILE=paper`)."""

from __future__ import annotations

from pathlib import Path

from bassnet.config import load_params

# Keys that dvc.yaml interpolates (`${...}`). DVC reads them from params.yaml as written, not
# merged with a profile, so switching profile must also set them: see `dvc_set_args`.
DVC_TEMPLATED = ("train.windows", "train.ablation_windows")


def dvc_set_args(profile: str, path: str | Path | None = None) -> list[str]:
    """`dvc exp run` flags that switch the pipeline to `profile`: -S profile=… plus the
    profile's values of the keys dvc.yaml interpolates."""
    merged = load_params(path, profile)
    args = ["-S", f"profile={profile}"]
    for key in DVC_TEMPLATED:
        value = merged
        for part in key.split("."):
            value = value[part]
        args += ["-S", f"{key}=[{','.join(map(str, value))}]"]
    return args


if __name__ == "__main__":  # python -m bassnet.config PROFILE → the flags, for the Makefile
    import shlex
    import sys

    print(shlex.join(dvc_set_args(sys.argv[1])))
