"""Downloading the raw datasets and released models that have a stable public address; instructions
for the others.

Downloads resume: bytes go to ``NAME.part`` and a later call continues with an HTTP Range request.
The file is renamed into place only when complete and checked (size and sha256 where known, else
the size the server announced). The licence of each entry is part of it: read it first.

The catalog: :data:`DATASETS` (raw datasets) and :data:`MODELS` (released model files), both of
:class:`Remote` entries told apart by ``kind``; :data:`CATALOG` holds them all by name.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import urllib.error
import urllib.request
import urllib.response
from dataclasses import dataclass
from pathlib import Path

from opnet import __version__
from opnet.errors import OpNetError
from opnet.fileio import check_writable
from opnet.progress import ProgressBar

log = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20
_3DDFA_PAGE = "http://www.cbsr.ia.ac.cn/users/xiangyuzhu/projects/3DDFA/main.htm"
_3DDFA_LICENCE = (
    "Research use only (X. Zhu et al., 'Face Alignment Across Large Poses: A 3D Solution', "
    "CVPR 2016); the photos come from {source}, whose terms apply as well. See " + _3DDFA_PAGE
)
_FACESYNTH_LICENCE = (
    "Non-commercial research only, under the Face Synthetics licence "
    "(LICENSE.txt in https://github.com/microsoft/FaceSynthetics)"
)
_FACESYNTH_URL = "https://facesyntheticspubwedata.blob.core.windows.net/iccv-2021/{}"
_PAPER_HOME = "https://github.com/opentrack/neuralnet-tracker-traincode"
_PAPER_LICENCE = (
    "Released with the original code (" + _PAPER_HOME + ") for its paper; no separate licence is "
    "stated with the files: the repository's terms apply, cite the paper"
)
_PAPER_MANUAL = (
    "Google Drive gives no direct link: open https://drive.google.com/file/d/{}/view in a browser, "
    "download the archive and unpack it into {}. The files are the paper branch's PyTorch state_dicts; "
    "OpNet reads them as they are (docs/paper-models.md)."
)


@dataclass(frozen=True)
class Remote:
    """A downloadable file: where to get it, what it may be used for, and the command that uses it.

    ``urls`` are tried in order; an entry without urls must be downloaded by hand (``manual``).
    ``size`` (bytes) and ``sha256`` are checked where known; an entry without ``sha256`` is
    *unverified* (``verified`` is False) and says so wherever it is listed or fetched.
    ``kind``: ``"dataset"`` or ``"model"`` (listed apart).
    """

    name: str
    title: str
    filename: str
    licence: str
    homepage: str
    prepare: str
    urls: tuple[str, ...] = ()
    size: int | None = None
    sha256: str | None = None
    manual: str = ""
    kind: str = "dataset"

    @property
    def verified(self) -> bool:
        """Whether a download is checked against a known sha256."""
        return self.sha256 is not None


DATASETS: dict[str, Remote] = {
    r.name: r
    for r in (
        Remote(
            "aflw2k3d",
            "AFLW2000-3D (evaluation)",
            "AFLW2000-3D.zip",
            _3DDFA_LICENCE.format(source="AFLW"),
            _3DDFA_PAGE,
            "opnet prepare aflw2k3d AFLW2000-3D.zip aflw2k.h5",
            urls=("http://www.cbsr.ia.ac.cn/users/xiangyuzhu/projects/3DDFA/Database/AFLW2000-3D.zip",),
        ),
        Remote(
            "300wlp",
            "300W-LP (training)",
            "300W-LP.zip",
            _3DDFA_LICENCE.format(source="300-W (AFW, HELEN, IBUG, LFPW)"),
            _3DDFA_PAGE,
            "opnet prepare 300wlp 300W-LP.zip 300wlp.h5 --face-model bfm_noneck_v3.pkl",
            urls=(
                "https://drive.usercontent.google.com/download?id=0B7OEHD3T4eCkVGs0TkhUWFN6N1k"
                "&export=download&confirm=t",
            ),
        ),
        Remote(
            "synface",
            "Microsoft Face Synthetics, 100,000 images (about 32 GB)",
            "dataset_100000.zip",
            _FACESYNTH_LICENCE,
            "https://github.com/microsoft/FaceSynthetics",
            "opnet prepare synface dataset_100000.zip microsoft_synface_100000-v1.1.h5",
            urls=(_FACESYNTH_URL.format("dataset_100000.zip"),),
        ),
        Remote(
            "synface-1000",
            "Microsoft Face Synthetics, sample of 1000 images (320 MB)",
            "dataset_1000.zip",
            _FACESYNTH_LICENCE,
            "https://github.com/microsoft/FaceSynthetics",
            "opnet prepare synface dataset_1000.zip synface_1000.h5",
            urls=(_FACESYNTH_URL.format("dataset_1000.zip"),),
        ),
        Remote(
            "opal23-biwi",
            "OPAL23 face boxes for BIWI (biwi_ann.txt)",
            "biwi_ann.txt",
            "From https://github.com/pcr-upm/opal23_headpose (A. Cobo et al., Pattern Recognition 2024); "
            "the repository states no licence: cite the paper and ask the authors before redistributing",
            "https://github.com/pcr-upm/opal23_headpose",
            "opnet prepare biwi biwi.zip biwi-v3.h5 --opal-annotation biwi_ann.txt",
            urls=(
                "https://raw.githubusercontent.com/pcr-upm/opal23_headpose/main/test/biwi_ann.txt",
                "https://raw.githubusercontent.com/pcr-upm/opal23_headpose/main/annotations/biwi_ann.txt",
            ),
        ),
        Remote(
            "3ddfa-bfm",
            "3DDFA face model bfm_noneck_v3.pkl (for 300W-LP pt3d_68, --roi head)",
            "bfm_noneck_v3.pkl",
            "A modified Basel Face Model 2009: academic use only; commercial use needs a licence from the "
            "University of Basel (https://faces.dmi.unibas.ch/bfm/)",
            "https://github.com/cleardusk/3DDFA_V2",
            "opnet prepare 300wlp 300W-LP.zip 300wlp.h5 --face-model bfm_noneck_v3.pkl",
            urls=("https://github.com/cleardusk/3DDFA_V2/raw/master/configs/bfm_noneck_v3.pkl",),
        ),
        Remote(
            "biwi",
            "BIWI Kinect Head Pose (evaluation)",
            "biwi.zip",
            "Research use only (G. Fanelli et al., ETH Zurich); see the Kaggle page and the original terms",
            "https://www.kaggle.com/datasets/kmader/biwi-kinect-head-pose-database",
            "opnet prepare biwi biwi.zip biwi-v3.h5 --opal-annotation biwi_ann.txt",
            manual="Sign in to Kaggle, download the dataset's zip (it holds faces_0/NN/...) from the page "
            "above and save it as biwi.zip; `opnet download opal23-biwi` fetches the face boxes.",
        ),
        Remote(
            "wflw",
            "WFLW (98 landmarks)",
            "WFLW/",
            "Non-commercial research (W. Wu et al., 'Look at Boundary', CVPR 2018); the photos come from "
            "WIDER FACE",
            "https://wywu.github.io/projects/LAB/WFLW.html",
            "opnet prepare wflw WFLW/ wflw_train.h5",
            manual="Download WFLW_images.tar.gz and WFLW_annotations.tar.gz from the page above and unpack "
            "both into one folder WFLW/.",
        ),
        Remote(
            "lapa",
            "LaPa (106 landmarks)",
            "LaPa/",
            "Non-commercial research only (Y. Liu et al., AAAI 2020); see the repository",
            "https://github.com/jd-opensource/lapa-dataset",
            "opnet prepare lapa LaPa/ lapa_train.h5",
            manual="Download LaPa.tar.gz from the links in the repository above and unpack it "
            "(LaPa/train/...).",
        ),
        Remote(
            "paper-baseline",
            "The paper's Baseline ensemble (original-code checkpoints)",
            "paper-baseline/",
            _PAPER_LICENCE,
            _PAPER_HOME,
            "opnet evaluate paper-baseline/*.ckpt --data aflw2k3d --ensemble",
            manual=_PAPER_MANUAL.format("19LrssD36COWzKDp7akxtJFeVTcltNVlR", "paper-baseline/"),
            kind="model",
        ),
        Remote(
            "paper-bl-fs",
            "The paper's BL+FS models, also trained on Face Synthetics (original-code checkpoints)",
            "paper-bl-fs/",
            _PAPER_LICENCE,
            _PAPER_HOME,
            "opnet evaluate paper-bl-fs/*.ckpt --data aflw2k3d --ensemble",
            manual=_PAPER_MANUAL.format("19zN8KICVEbLnGFGB5KkKuWrPjfet-jC8", "paper-bl-fs/"),
            kind="model",
        ),
        Remote(
            "paper-labeling",
            "The paper's labelling ensemble, RA-300W-LP of its Table 3 (original-code checkpoints)",
            "paper-labeling/",
            _PAPER_LICENCE,
            _PAPER_HOME,
            "opnet pseudolabel DATA.h5 --model paper-labeling/*.ckpt -o DATA-labelled.h5",
            manual=_PAPER_MANUAL.format("13LSi6J4zWSJnEzEXwZxr5UkWndFXdjcb", "paper-labeling/"),
            kind="model",
        ),
    )
}
"""Known datasets by name (as on the command line), and archives of models fetched by hand (kind "model")."""

_OPENTRACK_FILE = "https://github.com/opentrack/opentrack/raw/{commit}/tracker-neuralnet/models/{name}"
_OPENTRACK_MODELS = "https://github.com/opentrack/opentrack/tree/master/tracker-neuralnet/models"
_OPENTRACK_LICENCE = (
    "Released with OpenTrack (ISC licence for its code); trained on data for non-commercial research "
    "only (Face Synthetics' Research Use of Data Agreement, CC BY-NC 4.0 for the extended WFLW and LaPa, "
    "the Basel Face Model's non-commercial licence): non-commercial use. See "
    "https://github.com/opentrack/neuralnet-tracker-traincode/blob/master/license.md"
)
# Commits of opentrack/opentrack that hold each file (the master branch replaces files in place).
_V02, _V04, _V05 = (
    "2076141a93057c747b3fabd44f464796ced94524",
    "766808196cf63ddf9ceb102fba193582daceb9de",
    "03a0e69b02a11c425e2f07c728686ff7f2d6517a",
)


def _opentrack(
    name: str, title: str, commit: str, size: int | None, sha256: str | None, use: str = "predict photo.jpg"
) -> Remote:
    """An OpenTrack model file ``name.onnx`` pinned to ``commit`` of the opentrack repository."""
    filename = f"{name}.onnx"
    return Remote(
        name,
        title,
        filename,
        _OPENTRACK_LICENCE,
        _OPENTRACK_MODELS,
        f"opnet {use} --model {name}",
        urls=(_OPENTRACK_FILE.format(commit=commit, name=filename),),
        size=size,
        sha256=sha256,
        kind="model",
    )


MODELS: dict[str, Remote] = {
    r.name: r
    for r in (
        # sha256 and size of the v0.4 int8 model and the localizer: the released files themselves;
        # v0.2: the Git LFS pointers in the opentrack repository; v0.5 small: another project's record
        # pinned to the same commit (its localizer hash matches ours). v0.5 big: none known (unverified).
        _opentrack(
            "head-pose-0.4-small-int8",
            "OpenTrack pose model v0.4, small, int8 (the default of predict and track)",
            _V04,
            3529912,
            "fc887eda67f45621c1ed1ed12b8d23531880d0e830ea6bc431b659ff12877820",
        ),
        _opentrack(
            "head-localizer",
            "OpenTrack face localizer (one face per webcam frame; track's detector)",
            _V05,
            279403,
            "f26679fe5e01a08dab0b3b9b586b613c68622775e0b8e14ddae53f30391f7402",
            use="track --camera 0 --localizer",
        ),
        _opentrack(
            "head-pose-0.5-small",
            "OpenTrack pose model v0.5, small",
            _V05,
            12919981,
            "7c14f84114fb9eca89759d8a36350c6faae2b4187258cae07afb77a93c2d7eec",
        ),
        _opentrack("head-pose-0.5-big", "OpenTrack pose model v0.5, big", _V05, None, None),
        _opentrack(
            "head-pose-0.2-small",
            "OpenTrack pose model v0.2, small",
            _V02,
            12975846,
            "f915609c4238779e706f6e6688fd6b83317843e0be6bf5e76ef1ed3e687fc13b",
        ),
        _opentrack(
            "head-pose-0.2-big",
            "OpenTrack pose model v0.2, big",
            _V02,
            44809959,
            "6102d655bd82a0579aeaac62dad863c0d0934377341fd0da3e787e0291051f44",
        ),
    )
}
"""Released model files by name; the file is ``NAME.onnx``. ``opnet download`` puts them into the cache."""

CATALOG: dict[str, Remote] = {**DATASETS, **MODELS}
"""Every known entry by name."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


class _NothingLeft(Exception):
    """The server refused a range request (HTTP 416): the part holds the whole file, or too much."""

    def __init__(self, total: int | None):
        super().__init__(total)
        self.total = total


def _open(url: str, offset: int, timeout: float) -> urllib.response.addinfourl:
    """The response for ``url`` from byte ``offset``."""
    headers = {"User-Agent": f"opnet/{__version__}"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as e:
        if e.code == 416 and offset:
            match = re.match(r"bytes \*/(\d+)", e.headers.get("Content-Range", ""))
            raise _NothingLeft(int(match[1]) if match else None) from None
        raise OpNetError(f"{url}: HTTP {e.code} {e.reason}") from None
    except (urllib.error.URLError, OSError) as e:
        raise OpNetError(f"{url}: cannot connect ({getattr(e, 'reason', e)})") from None


def _expected_total(response: urllib.response.addinfourl, offset: int) -> int | None:
    if response.status == 206:
        match = re.match(r"bytes (\d+)-\d+/(\d+|\*)", response.headers.get("Content-Range", ""))
        if match is None or int(match[1]) != offset:
            raise OpNetError(f"{response.url}: the server resumed at the wrong place")
        return int(match[2]) if match[2] != "*" else None
    length = response.headers.get("Content-Length")
    return int(length) if length else None


def _stream(
    response: urllib.response.addinfourl, part: Path, offset: int, total: int | None, progress: bool
) -> None:
    mode = "ab" if response.status == 206 else "wb"
    if mode == "wb" and offset:
        log.info("%s: the server cannot resume; starting again", response.url)
    with (
        open(part, mode) as f,
        ProgressBar(
            total=total,
            initial=offset if mode == "ab" else 0,
            unit="B",
            unit_scale=True,
            disable=not progress,
            desc=part.name,
        ) as bar,
    ):
        try:
            while chunk := response.read(CHUNK_BYTES):
                f.write(chunk)
                bar.update(len(chunk))
        except (OSError, urllib.error.URLError) as e:
            raise OpNetError(f"{response.url}: download interrupted ({e}); run again to resume") from None


def _verify(part: Path, url: str, size: int | None, sha256: str | None, announced: int | None) -> None:
    got = part.stat().st_size
    wanted = size if size is not None else announced
    if wanted is not None and got != wanted:
        if got > wanted:
            part.unlink()
        raise OpNetError(
            f"{url}: got {got} bytes, expected {wanted}" + ("; run again to resume" if got < wanted else "")
        )
    if sha256 is not None:
        digest = file_sha256(part)
        if digest != sha256.lower():
            part.unlink()
            raise OpNetError(
                f"{url}: sha256 {digest} does not match the expected {sha256}; deleted the download"
            )


def fetch(
    url: str,
    dest: str | os.PathLike,
    size: int | None = None,
    sha256: str | None = None,
    progress: bool = False,
    timeout: float = 60.0,
) -> Path:
    """Downloads ``url`` to ``dest`` via ``dest.part``, resuming a partial ``.part``; checks, then renames."""
    dest = Path(dest)
    part = dest.with_name(dest.name + ".part")
    offset = part.stat().st_size if part.exists() else 0
    if size is not None and offset > size:
        part.unlink()
        offset = 0
    try:
        response = _open(url, offset, timeout)
    except _NothingLeft as e:
        if e.total is not None and e.total != offset:
            part.unlink()
            return fetch(url, dest, size, sha256, progress, timeout)
        announced = e.total
    else:
        with response:
            if "text/html" in response.headers.get("Content-Type", "") and not dest.name.endswith(".html"):
                raise OpNetError(
                    f"{url}: the server sent a web page instead of {dest.name} "
                    "(moved, or asks for a login); download it by hand"
                )
            announced = _expected_total(response, offset)
            _stream(response, part, offset, announced, progress)
    _verify(part, url, size, sha256, announced)
    os.replace(part, dest)
    return dest


def mirror_url(mirror: str, filename: str) -> str:
    """The address of ``filename`` on a mirror: the same file name under the base URL ``mirror``."""
    return f"{mirror.rstrip('/')}/{filename}"


def download(
    remote: Remote,
    folder: str | os.PathLike,
    force: bool = False,
    progress: bool = False,
    mirror: str | None = None,
) -> Path:
    """Fetches an entry into ``folder`` (trying each address in turn); returns the file's path.

    An existing file is kept unless ``force``. ``mirror``: a base URL that replaces the entry's
    addresses (the same file name under it). Raises OpNetError for entries without a public address
    (see ``remote.manual``) and when every address fails.
    """
    urls = (mirror_url(mirror, remote.filename),) if mirror else remote.urls
    if not urls:
        raise OpNetError(f"{remote.name}: no public address; {remote.manual}")
    folder = Path(folder)
    if not folder.is_dir():
        raise OpNetError(f"{folder}: no such folder")
    dest = folder / remote.filename
    check_writable(dest, overwrite=True)  # a folder that takes no files fails before connecting
    if dest.exists() and not force:
        log.info("%s: already there (--force downloads it again)", dest)
        return dest
    if force:
        dest.with_name(dest.name + ".part").unlink(missing_ok=True)
    errors = []
    for url in urls:
        try:
            return fetch(url, dest, remote.size, remote.sha256, progress)
        except OpNetError as e:
            errors.append(str(e))
    raise OpNetError(f"{remote.name}: download failed: {'; '.join(errors)}")
