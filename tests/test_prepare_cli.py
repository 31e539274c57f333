"""``opnet prepare`` through the command-line entry point."""

from __future__ import annotations

import numpy as np
import pytest
from prepare_fixtures import aflw_members, bfm_pickle, random_fit, w300lp_members, write_zip

from opnet.cli import main
from opnet.data import open_dataset


def test_prepare_aflw_prints_a_summary_and_respects_force(tmp_path, rng, capsys):
    fits = {f"image{i:05d}": random_fit(rng) for i in range(4)}
    archive = write_zip(tmp_path / "AFLW2000-3D.zip", aflw_members(rng, fits))
    out = tmp_path / "aflw2k.h5"
    args = ["prepare", "aflw2k3d", str(archive), str(out), "--workers", "1"]
    assert main([*args, "--limit", "3"]) == 0
    assert f"wrote {out}: 3 samples" in capsys.readouterr().out
    assert main(args) == 2
    assert "already exists; pass --force" in capsys.readouterr().err
    assert main([*args, "--force"]) == 0
    with open_dataset(out) as ds:
        assert len(ds) == 4
    assert main([*args, "--force", "--roi", "head"]) == 2
    assert "--roi head: needs a face model" in capsys.readouterr().err


def test_prepare_300wlp_with_a_face_model(tmp_path, rng, capsys):
    faces = {("LFPW", "LFPW_image_test_0001"): {0: random_fit(rng), 1: random_fit(rng)}}
    landmarks = {("LFPW", "LFPW_image_test_0001", k): rng.uniform(100, 300, (68, 2)) for k in (0, 1)}
    archive = write_zip(tmp_path / "300W-LP.zip", w300lp_members(rng, faces, landmarks))
    bfm_pickle(tmp_path / "bfm_noneck_v3.pkl", rng)
    out = tmp_path / "300wlp.h5"
    assert (
        main(
            [
                "prepare",
                "300wlp",
                str(archive),
                str(out),
                "--face-model",
                str(tmp_path / "bfm_noneck_v3.pkl"),
                "--roi",
                "head",
                "--workers",
                "1",
            ]
        )
        == 0
    )
    assert "2 samples in 1 sequences" in capsys.readouterr().out
    with open_dataset(out) as ds:
        assert ds.has("pt3d_68") and np.all(ds.read_field("rois")[:, 2:] > ds.read_field("rois")[:, :2])


def test_missing_source_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["prepare", "biwi", str(tmp_path / "nope.zip"), str(tmp_path / "b.h5")])
    assert exit_info.value.code == 2
    assert "no such file" in capsys.readouterr().err
