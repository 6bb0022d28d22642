"""Duplicates: every true group found, no two different photos grouped, nothing deleted without consent."""

from __future__ import annotations

import os
import shutil

import numpy as np
from helpers import found_names, make_dng, new_library
from PIL import Image
from shapes import Kind, draw

from photofinder.core.duplicates.finder import find_duplicates, trash
from photofinder.core.ingest.indexer import Indexer

KINDS = [
    Kind("circle", "red", "white"),
    Kind("star", "yellow", "gray"),
    Kind("square", "purple", "black"),
    Kind("triangle", "green", "brown"),
]


def _collection(folder):
    """Four originals, each with copies made the ways people make them, and a different shot of each subject."""
    (folder / "phone").mkdir(parents=True)
    (folder / "backup").mkdir()
    groups = []
    for i, k in enumerate(KINDS):
        img = draw(k, (640, 480), np.random.default_rng(i), centred=True)
        original = folder / "phone" / f"IMG_{i}.jpg"
        img.save(original, quality=92)
        group = {original}
        if i == 0:
            shutil.copy(original, folder / "backup" / "IMG_0 (copy).jpg")  # identical bytes
            group.add(folder / "backup" / "IMG_0 (copy).jpg")
        if i in (0, 1):
            small = folder / "backup" / f"IMG_{i}_small.jpg"
            img.resize((320, 240), Image.Resampling.LANCZOS).save(small, quality=80)  # resized
            group.add(small)
        if i == 1:
            exif = Image.Exif()
            exif[0x010E] = "edited description"
            tagged = folder / "backup" / "IMG_1_tagged.jpg"
            img.save(tagged, quality=92, exif=exif)  # same picture, other metadata
            group.add(tagged)
        if i == 2:
            squeezed = folder / "backup" / "IMG_2_q50.jpg"
            img.save(squeezed, quality=50)  # re-compressed
            group.add(squeezed)
            cropped = folder / "backup" / "IMG_2_crop.jpg"
            img.crop((24, 18, 616, 462)).save(cropped, quality=92)  # cropped a little
            group.add(cropped)
        if i == 3:
            # The RAW beside its JPEG, the same picture (confirmed by its pixels, not by the shared name)...
            make_dng(folder / "phone" / "IMG_3.dng", img)
            group.add(folder / "phone" / "IMG_3.dng")
            # ...and a RAW beside the photographer's edit (cropped a fifth, warmer): another picture, kept apart.
            shot = draw(k, (640, 480), np.random.default_rng(50), centred=True)
            make_dng(folder / "phone" / "IMG_5.dng", shot)
            edit = shot.crop((64, 48, 576, 432)).resize((640, 480))
            edit = Image.merge(
                "RGB",
                [
                    c.point(lambda v, f=f: min(255, int(v * f)))
                    for c, f in zip(edit.split(), (1.15, 1.0, 0.85))
                ],
            )
            edit.save(folder / "phone" / "IMG_5.jpg", quality=92)
        groups.append(group)
        # Another photo of the same subject: same colours, shape and background, but not the same picture.
        draw(k, (640, 480), np.random.default_rng(100 + i), centred=True).save(
            folder / "phone" / f"IMG_{i}b.jpg"
        )
    return groups


def test_every_true_group_and_no_different_photos(store, tmp_path, counting):
    folder = tmp_path / "photos"
    truth = _collection(folder)
    lib = new_library(store, folder)
    Indexer(lib, counting).run()
    with lib.open_catalog() as c:
        found = find_duplicates(lib, c, preferred_folder=str(folder / "phone"))
    got = sorted(sorted(m.path for m in g.members) for g in found)
    assert got == sorted(sorted(str(p) for p in g) for g in truth)
    keep = {os.path.basename(g.keep.path) for g in found}
    assert keep == {
        "IMG_0.jpg",
        "IMG_1.jpg",
        "IMG_2.jpg",
        "IMG_3.jpg",
    }  # the largest, in the preferred folder (the test DNG's mosaic is 96 x 64: its JPEG has more pixels)
    assert not any(g.exact for g in found)  # each group holds at least one copy that is not byte-identical


def test_trash_only_what_was_confirmed_then_forget_it(store, tmp_path, counting):
    folder = tmp_path / "photos"
    _collection(folder)
    lib = new_library(store, folder)
    Indexer(lib, counting).run()
    with lib.open_catalog() as c:
        group = next(g for g in find_duplicates(lib, c) if g.keep.path.endswith("IMG_0.jpg"))
        before = c.count()
    binned: list[str] = []
    done = trash(lib, [(group, group.others)], send=binned.append).moved  # a fake trash: nothing deleted here
    assert sorted(done) == sorted(binned) == sorted(m.path for m in group.others)
    assert all(os.path.exists(m.path) for m in group.members)  # the fake trash moved nothing
    with lib.open_catalog() as c:
        assert c.count() == before - len(group.others)
        assert all(not g.keep.path.endswith("IMG_0.jpg") for g in find_duplicates(lib, c))


def test_a_trash_that_fails_leaves_the_photo_and_the_library_as_they_were(store, tmp_path, counting):
    folder = tmp_path / "photos"
    _collection(folder)
    lib = new_library(store, folder)
    Indexer(lib, counting).run()
    with lib.open_catalog() as c:
        before = c.count()
        group = find_duplicates(lib, c)[0]

    def no_trash(path):
        raise OSError("this drive has no trash")

    report = trash(lib, [(group, group.others)], send=no_trash)
    assert report.moved == [] and all("this drive has no trash" in why for _, why in report.left)
    with lib.open_catalog() as c:
        assert c.count() == before


def test_the_held_out_corpus_yields_no_wrong_group(store, tmp_path, counting):
    """A bracket, a slow pan, overlapping crops, light/dark/colour variants, two balls, a person added, a RAW
    and a JPEG sharing a name: no duplicate group; the resized, re-compressed and 3 %-cropped copies group."""
    from dupcorpus import write_corpus

    from photofinder.core.duplicates.finder import find_groups

    folder = tmp_path / "photos"
    copies, apart = write_corpus(folder)
    lib = new_library(store, folder)
    Indexer(lib, counting).run()
    with lib.open_catalog() as c:
        found = find_groups(lib, c)
    assert [sorted(m.path for m in g.members) for g in found.duplicates] == [sorted(map(str, copies))]
    assert os.path.basename(found.duplicates[0].keep.path) == "photo.jpg"
    for g in found.similar:  # similar shots never mix in a copy of the photo, and are flagged as such
        assert g.similar and not {m.path for m in g.members} & set(map(str, copies)) - {g.keep.path}


def test_transparent_pictures_are_not_flattened_into_white_copies(store, tmp_path, counting):
    """Three different transparent PNGs and two white JPEGs: only the two JPEGs are copies of each other."""
    folder = tmp_path / "photos"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for i in range(3):
        a = np.zeros((240, 320, 4), np.uint8)
        a[..., :3] = rng.integers(0, 255, 3)
        a[40 + 30 * i : 140 + 30 * i, 40 : 120 + 40 * i, 3] = 255  # a different opaque shape on each
        Image.fromarray(a, "RGBA").save(folder / f"sticker-{i}.png")
    Image.new("RGB", (320, 240), (255, 255, 255)).save(folder / "white.jpg", quality=95)
    Image.new("RGB", (320, 240), (255, 255, 255)).save(folder / "white-2.jpg", quality=80)
    lib = new_library(store, folder)
    Indexer(lib, counting).run()
    with lib.open_catalog() as c:
        found = find_duplicates(lib, c)
    assert [sorted(os.path.basename(m.path) for m in g.members) for g in found] == [
        ["white-2.jpg", "white.jpg"]
    ]


def test_a_reshoot_on_a_plain_backdrop_is_never_offered_for_the_trash(store, tmp_path, counting):
    """Product shots on a plain backdrop: the same subject shot again closer, or in another shade, lines up
    with a crop of the first; only the crop is a duplicate, the reshoot and the other shade at most similar."""
    from dupcorpus import crop_fraction, studio

    folder = tmp_path / "photos"
    folder.mkdir()
    shot = studio((640, 480), (235, 200, 40), seed=1)
    shot.save(folder / "shot.jpg", quality=92)
    crop_fraction(shot, 0.03).save(folder / "shot-cropped.jpg", quality=92)
    studio((640, 480), (235, 200, 40), (0.47, 0.52), 0.342, seed=3).save(folder / "closer.jpg", quality=92)
    studio((640, 480), (235, 200, 70), seed=2).save(folder / "shade.jpg", quality=92)
    groups, similar = found_names(store, folder, counting)
    assert groups == [["shot-cropped.jpg", "shot.jpg"]]
    assert {"closer.jpg", "shade.jpg"} <= similar


def test_frames_of_a_sequence_are_never_offered_for_the_trash(store, tmp_path, counting):
    """A burst, a time-lapse, a focus stack: frames that differ below what the thumbnails show. Each was taken
    at its own moment (EXIF date taken); a copy keeps its photo's date, or has none (a messenger strips it)."""
    from dupcorpus import studio

    def dated(when):
        exif = Image.Exif()
        exif.get_ifd(0x8769)[0x9003] = when
        return exif

    folder = tmp_path / "photos"
    folder.mkdir()
    first = studio((640, 480), (235, 200, 40), seed=1)
    first.save(folder / "frame-1.jpg", quality=92, exif=dated("2026:03:12 12:00:00"))
    first.save(folder / "frame-1-copy.jpg", quality=80, exif=dated("2026:03:12 12:00:00"))
    first.save(folder / "frame-1-sent.jpg", quality=70)  # no EXIF at all
    studio((640, 480), (235, 200, 40), (0.502, 0.5), seed=2).save(  # the subject 0.2 % over
        folder / "frame-2.jpg", quality=92, exif=dated("2026:03:12 12:00:02")
    )
    groups, similar = found_names(store, folder, counting)
    assert groups == [["frame-1-copy.jpg", "frame-1-sent.jpg", "frame-1.jpg"]]
    assert "frame-2.jpg" in similar
