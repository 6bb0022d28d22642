"""The everyday scenes a model's text tower is calibrated on: 250 captions of no particular photo.

They are the null hypothesis of a text query (find.query: a photo must score above almost all of them to be a
good match) and the bar a photo's words must clear to be worth reading (ingest.wordpass).
"""

# Captions of everyday scenes: queries unrelated to almost every given photo. Their scores against a sample of a
# library's own photos are what "no real match" looks like for this library and this model.
_SUBJECTS = (
    "a dog",
    "a cat",
    "a horse",
    "a bird",
    "a child",
    "two people",
    "a family",
    "a baby",
    "an old man",
    "a woman",
    "a man",
    "friends",
    "a crowd",
    "a bride",
    "a teacher",
    "a cow",
    "a fish",
    "a boat",
    "a bicycle",
    "a bus",
    "a train",
    "a plane",
    "a car",
    "a truck",
    "a house",
    "a church",
    "a bridge",
    "a tower",
    "a castle",
    "a kitchen",
    "a bedroom",
    "an office",
    "a garden",
    "a park",
    "a forest",
    "a lake",
    "a river",
    "a waterfall",
    "mountains",
    "a desert",
    "a beach",
    "the sea",
    "a city",
    "a village",
    "a street",
    "a market",
    "a restaurant",
    "a stadium",
    "a museum",
    "a library",
)
_SETTINGS = (
    "at night",
    "in the rain",
    "in the snow",
    "at sunset",
    "in summer",
    "indoors",
    "from above",
    "in a photo",
    "close up",
    "on a sunny day",
)
CALIBRATION_CAPTIONS = [f"{s} {c}" for s in _SUBJECTS for c in _SETTINGS][::2]  # 250
# What the vector index is tuned on (store.vector_index): 100 of them, spread over every subject, encoded by
# the library's own model. Real text vectors, so the tuning sees how far and in which direction the model's
# text sits from its photos (the "modality gap"), which a photo vector pulled away at random does not.
TUNING_CAPTIONS = CALIBRATION_CAPTIONS[::5] + CALIBRATION_CAPTIONS[2::5]
