"""The close look (duplicates/closeup.py): what the 256 px thumbnails can't show, seen on the files before two
photos are called copies. Hostile cases from a review (helper-15): a screenshot with one digit changed, a
receipt with another total and another colourway of a product were offered for the trash."""

from __future__ import annotations

import os

import numpy as np
import pytest
from dupcorpus import as_indexed, crop_fraction, landscape
from helpers import found_names
from PIL import Image, ImageDraw, ImageFont

from photofinder.core.duplicates.closeup import close_look
from photofinder.core.duplicates.likeness import compare


def _judged(a, b, tmp_path):
    """The thumbnails' verdict and the close look's, for two files."""
    v = compare(as_indexed(a, tmp_path), as_indexed(b, tmp_path))
    return v, close_look(str(a), str(b), v)


def _banking_app(balance: str) -> Image.Image:
    """A phone screenshot (1170 x 2532) of an account: a header with the balance, a list of payments."""
    img = Image.new("RGB", (1170, 2532), (255, 255, 255))
    d = ImageDraw.Draw(img)
    d.rectangle([0, 0, 1170, 600], fill=(0, 90, 170))
    d.text((80, 200), "Current account", fill=(255, 255, 255), font=ImageFont.load_default(50))
    d.text((80, 300), balance, fill=(255, 255, 255), font=ImageFont.load_default(110))
    for i, (name, amount) in enumerate(
        [("Grocery store", "-54.20"), ("Rent", "-950.00"), ("Coffee", "-3.80")]
    ):
        y = 700 + i * 190
        d.ellipse([60, y, 160, y + 100], fill=(230, 236, 245))
        d.text((200, y + 10), name, fill=(20, 20, 20), font=ImageFont.load_default(48))
        d.text((850, y + 25), amount, fill=(20, 20, 20), font=ImageFont.load_default(48))
    return img


def test_a_screenshot_with_one_digit_changed_is_not_a_copy(tmp_path):
    _banking_app("2,431.07").save(tmp_path / "a.png")
    _banking_app("2,481.07").save(tmp_path / "b.png")
    v, close = _judged(tmp_path / "a.png", tmp_path / "b.png", tmp_path)
    assert v.same  # the thumbnails can't tell: why the close look exists
    assert not close.same and ("detail" in close.why or "one spot" in close.why)


def test_another_colourway_of_a_product_is_not_a_copy(tmp_path):
    """A product on a plain backdrop, its colour 12 levels apart in every channel: within what the
    thumbnails' regions allow, not what the files show."""
    rng = np.random.default_rng(0)
    for name, colour in (("sand", (200, 180, 140)), ("beige", (188, 168, 128))):
        img = Image.new("RGB", (1200, 900), (240, 240, 238))
        ImageDraw.Draw(img).rounded_rectangle([350, 200, 850, 750], 60, fill=colour)
        noisy = np.asarray(img).astype(int) + rng.integers(-3, 4, (900, 1200, 3))
        Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(tmp_path / f"{name}.jpg", quality=90)
    v, close = _judged(tmp_path / "sand.jpg", tmp_path / "beige.jpg", tmp_path)
    assert v.same and not close.same and "colour" in close.why


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    return landscape((1600, 1200), 21)


@pytest.mark.parametrize(
    "copy",
    [
        "resized to half, quality 80",
        "quality 40",
        "a messenger's 800 px at quality 40",
        "cropped 3 % to 1080 px",
    ],
)
def test_copies_pass_the_close_look(copy, photo, tmp_path):
    photo.save(tmp_path / "photo.jpg", quality=92)
    if copy.startswith("resized"):
        photo.resize((800, 600), Image.Resampling.LANCZOS).save(tmp_path / "copy.jpg", quality=80)
    elif copy == "quality 40":
        photo.save(tmp_path / "copy.jpg", quality=40)
    elif copy.startswith("a messenger"):
        photo.resize((800, 600), Image.Resampling.BILINEAR).save(tmp_path / "copy.jpg", quality=40)
    else:
        cut = crop_fraction(photo, 0.03)
        cut.resize((1080, round(1080 * cut.height / cut.width))).save(tmp_path / "copy.jpg", quality=85)
    for a, b in (("photo.jpg", "copy.jpg"), ("copy.jpg", "photo.jpg")):
        v, close = _judged(tmp_path / a, tmp_path / b, tmp_path)
        assert v.same and close.same, (copy, close)


def test_a_file_gone_before_the_close_look_is_no_copy(tmp_path):
    photo = landscape((640, 480), 22)
    photo.save(tmp_path / "a.jpg", quality=92)
    photo.save(tmp_path / "b.jpg", quality=80)
    v = compare(as_indexed(tmp_path / "a.jpg", tmp_path), as_indexed(tmp_path / "b.jpg", tmp_path))
    os.remove(tmp_path / "b.jpg")
    close = close_look(str(tmp_path / "a.jpg"), str(tmp_path / "b.jpg"), v)
    assert v.same and not close.same and "not readable" in close.why


def test_the_finder_offers_only_true_copies_of_a_screenshot_for_the_trash(store, tmp_path, counting):
    folder = tmp_path / "photos"
    folder.mkdir()
    monday = _banking_app("2,431.07")
    monday.save(folder / "balance-monday.jpg", quality=95)  # as phones that save screenshots as JPEG do
    monday.resize((585, 1266), Image.Resampling.BILINEAR).save(folder / "balance-monday-sent.jpg", quality=70)
    _banking_app("2,481.07").save(folder / "balance-tuesday.jpg", quality=95)
    groups, similar = found_names(store, folder, counting)
    assert groups == [["balance-monday-sent.jpg", "balance-monday.jpg"]]
    assert "balance-tuesday.jpg" in similar  # for the user to look at, nothing of it pre-selected


def test_a_burst_frame_on_a_plain_backdrop_is_not_a_crop(tmp_path):
    """The subject 0.6 % of the width over, nothing else with detail: lined up, that is a 1 % crop of a frame
    with as many pixels as the other, which a cut can't be (no date taken to tell them apart here)."""
    from dupcorpus import studio

    studio((1200, 900), (235, 200, 40), seed=1).save(tmp_path / "a.jpg", quality=92)
    studio((1200, 900), (235, 200, 40), (0.506, 0.5), seed=2).save(tmp_path / "b.jpg", quality=92)
    v, close = _judged(tmp_path / "a.jpg", tmp_path / "b.jpg", tmp_path)
    assert v.same and not close.same and "not a crop" in close.why


def test_a_night_bracket_a_third_of_a_stop_apart_is_not_a_copy(photo, tmp_path):
    """At night the frames of a bracket differ by a few levels of 255, inside the thumbnails' exposure check;
    as a ratio they are 0.3 EV apart."""
    dark = np.asarray(photo, np.float32) / 255
    for name, ev in (("0", 0.0), ("plus", 0.3)):
        linear = dark**2.2 * 0.02 * 2**ev  # a night scene: levels up to ~40
        img = Image.fromarray((np.clip(linear ** (1 / 2.2), 0, 1) * 255).astype(np.uint8))
        img.save(tmp_path / f"{name}.jpg", quality=92)
    v, close = _judged(tmp_path / "0.jpg", tmp_path / "plus.jpg", tmp_path)
    assert v.same and not close.same and "exposure" in close.why, close


def test_a_date_stamp_is_not_a_copy(photo, tmp_path):
    """The same photo with and without the camera's date imprint, 1.5 % of the height, in a corner."""
    photo.save(tmp_path / "plain.jpg", quality=92)
    stamped = photo.copy()
    ImageDraw.Draw(stamped).text(
        (1330, 1150), "'26 3 12", fill=(255, 140, 40), font=ImageFont.load_default(18)
    )
    stamped.save(tmp_path / "stamped.jpg", quality=92)
    v, close = _judged(tmp_path / "plain.jpg", tmp_path / "stamped.jpg", tmp_path)
    assert v.same and not close.same and "one spot" in close.why, close


def test_a_small_detail_changed_under_heavy_noise_is_not_a_copy(photo, tmp_path):
    """Two high-ISO frames of a still scene, each with its own noise (24 levels), a 16 px detail 80 levels
    brighter in one: the thumbnails can't see it, and the noise hides it from the block test (it stands under 5
    times the noise); over a patch of 1 % of the width it is 77 levels off."""
    still = np.asarray(photo, np.float32)
    for i, name in enumerate(("a", "b")):
        frame = still + 24 * np.random.default_rng(i).standard_normal(still.shape)
        if name == "b":
            frame[700:716, 900:916] += 80  # a leaf that caught the light
        Image.fromarray(np.clip(frame, 0, 255).astype(np.uint8)).save(tmp_path / f"{name}.jpg", quality=92)
    v, close = _judged(tmp_path / "a.jpg", tmp_path / "b.jpg", tmp_path)
    assert v.same and not close.same and "detail" in close.why, close
