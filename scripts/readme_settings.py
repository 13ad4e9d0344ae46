"""Rewrite the settings table at the end of README.md from the code (`streamapp settings --markdown`)."""

from pathlib import Path

from streamapp.commands.settings import markdown

readme = Path(__file__).resolve().parents[1] / "README.md"
text = readme.read_text()
start = text.index("| variable | default | meaning |")
end = text.find("\n\n", start)
readme.write_text(text[:start] + markdown() + (text[end:] if end != -1 else "\n"))
