"""Copies of one picture: finding them, the pixel rule that confirms them, hiding them in results, and the checks made right before one is moved to the trash."""
