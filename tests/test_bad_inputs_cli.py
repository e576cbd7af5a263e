"""``python -m generator.sample`` on the bad-input corpus (``tests/bad_inputs.py``).

Every file gives a dance (``.npz``, ``.pkl``, ``.bvh``; ``--no-video``, one sampling step of an
untrained tiny generator: the point is the handling of the input) or exit code 2 with one
``error:`` line naming the file and the problem, no traceback, and nothing left in the output
folder. The good files go through one command (a folder argument: one start-up for all of them);
each bad file is a command of its own. An output folder that cannot be written is named before
any work is done: we run as root, so permission bits would not stop a write, and the tests use a
path under a regular file and a path in /proc instead.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from bad_inputs import BadInput, folder_files, make_corpus, run_cli

from generator import sample
from generator.sampling.checkpoint import write_untrained_checkpoint
from motionbeat.core.motion import load_motion

MOTION_SUFFIXES = (".bvh", ".npz", ".pkl")
USAGE_ERROR = 2


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return write_untrained_checkpoint(tmp_path_factory.mktemp("ckpt") / "generator", size="tiny")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> list[BadInput]:
    return make_corpus(tmp_path_factory.mktemp("corpus"))


def _bad(corpus) -> list[BadInput]:
    return [item for item in corpus if item.error is not None]


def _check_refused(outcome, item: BadInput, out) -> None:
    assert outcome.exit_code == USAGE_ERROR, outcome.stderr
    assert "Traceback" not in outcome.stderr, outcome.stderr
    assert outcome.message.startswith(f"error: {item.path.name}: "), outcome.message
    assert item.error in outcome.message
    assert outcome.files == (), outcome.files  # nothing written, nothing half written


def test_every_good_file_dances_in_one_command(corpus, checkpoint, tmp_path):
    good = tmp_path / "songs"
    good.mkdir()
    items = [item for item in corpus if item.error is None]
    for item in items:
        shutil.copy(item.path, good / item.path.name)
    out = tmp_path / "out"
    outcome = run_cli(good, out, checkpoint)
    assert outcome.exit_code == 0 and "Traceback" not in outcome.stderr, outcome.stderr
    stems = sample.output_stems(sample.collect_songs([good]), out)  # song, song-2, ... for song.*
    assert len(stems) == len(items)
    assert set(outcome.files) == {stem.name + suffix for stem in stems for suffix in MOTION_SUFFIXES}
    for name in outcome.files:
        if name.endswith(".npz"):
            motion = load_motion(out / name)
            assert motion.num_frames >= 30 and motion.poses.shape[1:] == (24, 3)


def test_a_bad_file_in_a_real_process_exits_2_with_one_line(corpus, checkpoint, tmp_path):
    item = next(item for item in corpus if item.label == "text file named .mp3")
    _check_refused(run_cli(item.path, tmp_path / "out", checkpoint), item, tmp_path / "out")


@pytest.mark.parametrize("label", ["empty file", "1 ms of audio", "10 s of silence", "truncated header",
                                   "corrupt header", "text file named .mp3"])
def test_each_bad_file_is_named_with_its_problem(corpus, checkpoint, tmp_path, capsys, label):
    """In-process (``sample.main``, the same code as the command) to keep the default run fast;
    the slow set runs each one as its own command."""
    item = next(item for item in corpus if item.label == label)
    out = tmp_path / "out"
    code = sample.main([str(item.path), "--out", str(out), "--checkpoint", str(checkpoint), "--quiet",
                        "--no-video", "--steps", "1"])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if not line.startswith("warning:")]
    assert code == USAGE_ERROR and lines == [lines[-1]] and "Traceback" not in err, err
    assert lines[-1].startswith(f"error: {item.path.name}: ") and item.error in lines[-1], lines
    assert folder_files(out) == ()


def test_the_corpus_names_every_bad_file_the_tests_check(corpus):
    assert {item.label for item in _bad(corpus)} == {
        "empty file", "1 ms of audio", "10 s of silence", "truncated header", "corrupt header",
        "text file named .mp3"}


@pytest.mark.parametrize("where", ["under a file", "in /proc"])
def test_an_output_folder_that_cannot_be_written_is_named_before_any_work(
        corpus, checkpoint, tmp_path, where):
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    out = blocker / "dances" if where == "under a file" else Path("/proc/motionbeat-test")
    song = next(item for item in corpus if item.label == "wav").path
    outcome = run_cli(song, out, checkpoint)
    assert outcome.exit_code == USAGE_ERROR and "Traceback" not in outcome.stderr, outcome.stderr
    expected = f"error: {out}: cannot write the dances to this folder ("
    assert outcome.message.startswith(expected), outcome.message
    assert blocker.read_text() == "not a folder" and not out.exists()


@pytest.mark.slow
@pytest.mark.parametrize("label", ["empty file", "1 ms of audio", "10 s of silence", "truncated header",
                                   "corrupt header"])
def test_each_bad_file_as_its_own_command(corpus, checkpoint, tmp_path, label):
    item = next(item for item in corpus if item.label == label)
    _check_refused(run_cli(item.path, tmp_path / "out", checkpoint), item, tmp_path / "out")


@pytest.mark.slow
def test_a_20_minute_song_dances_whole(tmp_path_factory, checkpoint, tmp_path):
    long = next(item for item in make_corpus(tmp_path_factory.mktemp("long"), slow=True)
                if item.label == "20-minute song")
    outcome = run_cli(long.path, tmp_path / "out", checkpoint)
    assert outcome.exit_code == 0 and "Traceback" not in outcome.stderr, outcome.stderr
    motion = load_motion(tmp_path / "out" / "twenty minutes.npz")
    assert motion.duration == pytest.approx(20 * 60, abs=0.1)
    assert outcome.files == tuple(sorted(f"twenty minutes{s}" for s in MOTION_SUFFIXES))
    print(f"20-minute song, CLI: {outcome.message}", file=sys.stderr)
