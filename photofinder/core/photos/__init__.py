"""Reading the user's photo files, never writing them: which files are photos, decoding them (RAW in helper processes), thumbnails, and the GPS place in their EXIF."""
