"""Deterministic benchmark corpus in the shape of the real input articles.

Each article is YAML front matter between ``---`` lines, with the same keys, key order,
quoting and blank-line layout as ``/work/shared/seeds/000_8a439e084807ecee.txt``, plus an
optional Markdown body (~20% of articles). Files are ``NNNNNN_<16 hex>.txt``, 1,000 to a
subfolder (``root/00/``, ``root/01/``, ...; three digits from 100,000 articles on).

Determinism: every article is drawn from its own ``random.Random(f"{seed}:{i}")`` and its file
name hex is ``blake2b(f"name:{seed}:{i}")``, so the same ``(n, seed)`` gives the same bytes
whatever the number of processes, and the first k articles of a corpus of n are the same files
as a corpus of k (prefix-stable; only the folder-name width grows from 100,000 on). No clock is
read.

Key order (optional keys in brackets; the rest is always present, as in the seed)::

    category, title, excerpt, publishedDateTime, [updatedDateTime], originalUrl, webUrl,
    ampWebUrl, cdnAmpWebUrl, type, [locale], quality, heat, published,
    provider{name, domain}, topics, [tags], [images], [related], secured

``images`` / ``related`` (and a related item's ``images``) are omitted when empty (0 items).

API (for ``benchmarks/run.py``)::

    from corpus import generate, touch
    paths = generate(root, 100_000, seed=0)     # -> sorted list of written Paths
    changed = touch(paths, 0.01, seed=1)        # -> sorted list of rewritten Paths

Script: ``python benchmarks/corpus.py DIR N [--seed S] [--processes P]``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import random
import sys
import time
from pathlib import Path

__all__ = ["generate", "touch", "article_text", "article_relpath", "FILES_PER_DIR"]

FILES_PER_DIR = 1000

# ---------------------------------------------------------------------------------------------
# Vocabulary. Provider names, topics and tags are written as plain (unquoted) YAML scalars like
# in the seed, so they must stay plain-safe: no ": ", no " #", no leading indicator, no
# yes/no/on/off/null lookalikes.
# ---------------------------------------------------------------------------------------------

PROVIDERS: list[tuple[str, str]] = [
    ("MIT Technology Review", "technologyreview.com"),
    ("Datacenter Dynamics", "datacenterdynamics.com"),
    ("The Verge", "theverge.com"),
    ("Ars Technica", "arstechnica.com"),
    ("Wired", "wired.com"),
    ("TechCrunch", "techcrunch.com"),
    ("VentureBeat", "venturebeat.com"),
    ("ZDNet", "zdnet.com"),
    ("The Register", "theregister.com"),
    ("IEEE Spectrum", "spectrum.ieee.org"),
    ("Nature", "nature.com"),
    ("Science", "science.org"),
    ("New Scientist", "newscientist.com"),
    ("Quanta Magazine", "quantamagazine.org"),
    ("The Guardian", "theguardian.com"),
    ("BBC News", "bbc.co.uk"),
    ("Reuters", "reuters.com"),
    ("Bloomberg", "bloomberg.com"),
    ("Financial Times", "ft.com"),
    ("The New York Times", "nytimes.com"),
    ("Forbes", "forbes.com"),
    ("Fortune", "fortune.com"),
    ("Axios", "axios.com"),
    ("Engadget", "engadget.com"),
    ("Gizmodo", "gizmodo.com"),
    ("InfoWorld", "infoworld.com"),
    ("Towards Data Science", "towardsdatascience.com"),
    ("SiliconANGLE", "siliconangle.com"),
    ("The Decoder", "the-decoder.com"),
    ("heise online", "heise.de"),
    ("Le Monde", "lemonde.fr"),
    ("Der Spiegel", "spiegel.de"),
    ("Nikkei Asia", "asia.nikkei.com"),
    ("South China Morning Post", "scmp.com"),
    ("Tom's Hardware", "tomshardware.com"),
    ("Fast Company", "fastcompany.com"),
    ("Business Insider", "businessinsider.com"),
    ("CNBC", "cnbc.com"),
    ("Analytics India Magazine", "analyticsindiamag.com"),
    ("El País", "elpais.com"),
    ("Les Échos", "lesechos.fr"),
    ("The Economist", "economist.com"),
]

TOPICS: list[str] = [
    "AI", "Machine Learning", "Natural Language Processing", "Computer Vision", "Robotics",
    "Deep Learning", "Reinforcement Learning", "Generative AI", "Large Language Models",
    "AI Ethics", "AI Safety", "AI Regulation", "Autonomous Vehicles", "Semiconductors",
    "Cloud Computing", "Data Centers", "Quantum Computing", "Cybersecurity", "Privacy",
    "Open Source", "Healthcare", "Drug Discovery", "Climate", "Energy", "Education", "Finance",
    "Startups", "Venture Capital", "Chatbots", "Speech Recognition", "Image Generation",
    "Video Generation", "Edge Computing", "MLOps", "Data Science", "Neural Networks",
    "Transformers", "Benchmarks", "Hardware", "GPUs", "Search", "Recommendation Systems",
    "Knowledge Graphs", "Multimodal AI", "AI Agents", "Code Generation", "Developer Tools",
    "Bioinformatics", "Neuroscience", "Space", "Supply Chain", "Manufacturing", "Retail",
    "Legal", "Copyright", "Misinformation", "Deepfakes", "Labor", "Public Policy",
    "Explainability", "Federated Learning", "Synthetic Data",
]

TAGS: list[str] = [
    "llm", "gpt", "openai", "google", "meta", "nvidia", "anthropic", "deepmind", "microsoft",
    "apple", "amazon", "eu-ai-act", "funding", "acquisition", "paper", "benchmark",
    "open-weights", "inference", "training", "chips", "policy", "interview", "explainer",
    "opinion", "tutorial", "python", "pytorch", "jax", "robotics", "health",
]

CATEGORIES = ["news"] * 6 + ["research", "research", "opinion", "tutorial", "product", "interview"]
TYPES = ["article"] * 17 + ["video", "video", "podcast"]
LOCALES = ["en-US", "en-US", "en-US", "en-GB", "en-IN", "de-DE", "fr-FR", "es-ES", "ja-JP", "pt-BR"]

# (suffix, minutes east of UTC). Weighted: Z is the most common, as in the seed.
OFFSETS: list[tuple[str, int]] = (
    [("Z", 0)] * 8
    + [
        ("+00:00", 0), ("+01:00", 60), ("+02:00", 120), ("+03:00", 180), ("-05:00", -300),
        ("-04:00", -240), ("-07:00", -420), ("-08:00", -480), ("+05:30", 330),
        ("+05:45", 345), ("+08:00", 480), ("+09:00", 540), ("+10:00", 600),
        ("-03:30", -210), ("+12:45", 765), ("-10:00", -600),
    ]
)

SUBJECTS = [
    "Researchers", "OpenAI", "Google", "A startup", "Scientists", "Engineers", "Regulators",
    "The EU", "Microsoft", "Meta", "Nvidia", "Anthropic", "DeepMind", "Apple", "Amazon",
    "A new study", "MIT researchers", "Stanford researchers", "Hospitals", "Banks",
    "Chipmakers", "Developers", "Universities", "Lawmakers", "Investors",
]
VERBS = [
    "unveil", "release", "debate", "rethink", "open-source", "benchmark", "warn about",
    "bet on", "scale up", "test", "question", "rebuild", "rush into", "pause", "measure",
]
OBJECTS = [
    "a new approach to {t}", "{t} models", "the future of {t}", "tools for {t}",
    "cheaper {t}", "a faster path to {t}", "rules for {t}", "{t} at scale",
    "the limits of {t}", "open {t} datasets",
]
TITLE_FORMS = [
    "{s} {v} {o}",
    "{s} {v} {o}",
    "{s} {v} {o}",
    "Why {t} is harder than it looks",
    "{t}: what we know so far",
    "How {s} {v} {o}",
    "The {t} boom can't last. Here's why.",
    "{T} can do jaw-dropping things. But nobody knows exactly why.",
    "Inside the race to build {o}",
    "\"{q}\": {s} on {t}",
    "{t} & {t2}: {s} {v} {o}",
    "{s} {v} {o} — and it's working",
]
QUOTES = [
    "We are not there yet", "This changes everything", "It's a wake-up call",
    "Nobody saw this coming", "The hype is real", "Slow down",
]
SPICE = [  # occasional non-ASCII / markup-ish flavour, as in real scraped titles
    "", "", "", "", "", "", "", "", "", "", "", "",
    " in Zürich", " at São Paulo's summit", " (naïve or not)", " ’24 edition", " 🚀",
    " for <10 ms latency", " in R&D",
]

SENTENCES = [
    "And that's a problem.",
    "Figuring it out is one of the biggest scientific puzzles of our time.",
    "The results suggest that {t} could change how {s} work.",
    "Critics say the claims around {t} are overblown.",
    "{S} have spent billions on {t} over the past decade.",
    "A recent paper raises questions about the creative outputs of {t}.",
    "The company says the new system is twice as fast and half as expensive.",
    "While these models have demonstrated exceptional fluency, their limits remain unclear.",
    "Experts warn that regulation is struggling to keep pace with {t}.",
    "The work is a crucial step towards controlling more powerful future models.",
    "It is not yet clear whether the approach generalises beyond the lab.",
    "{S} are racing to turn {t} into real products.",
    "The findings were published this week and have drawn both praise and skepticism.",
    "Some early users report mixed results with {t} in production.",
    "The debate over {t} is far from settled.",
]

LINK_TEXT = ["the paper", "a blog post", "the announcement", "this report", "the code"]
IMAGE_HOSTS = [
    "cdn.example-media.com", "images.newscdn.net", "static.pressimg.org", "media.picserve.io",
]
SLUG_WORDS = [
    "ai", "models", "language", "large", "new", "research", "future", "data", "open",
    "chips", "robots", "safety", "rules", "startup", "funding", "study", "limits", "scale",
    "agents", "vision", "health", "energy", "climate", "search", "code", "privacy",
]

_DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


# ---------------------------------------------------------------------------------------------
# Small pure helpers
# ---------------------------------------------------------------------------------------------

class _R:
    """random.Random with cheap choice/randint (random.Random's are ~10x slower).

    Only deterministic given the key; the draws differ from random.Random's own methods.
    """

    __slots__ = ("_r", "random")

    def __init__(self, key: str) -> None:
        self._r = random.Random(key)
        self.random = self._r.random

    def choice(self, seq):
        return seq[int(self.random() * len(seq))]

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))

    def randrange(self, n: int) -> int:
        return int(self.random() * n)

    def sample(self, seq, k: int):
        return self._r.sample(seq, k)

    def randbytes(self, n: int) -> bytes:
        return self._r.randbytes(n)

    def getrandbits(self, k: int) -> int:
        return self._r.getrandbits(k)


def _q(s: str) -> str:
    """A YAML double-quoted scalar."""
    if "\\" in s or '"' in s:
        s = s.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{s}"'


def _is_leap(y: int) -> bool:
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


def _mdays(y: int, m: int) -> int:
    return 29 if m == 2 and _is_leap(y) else _DAYS_IN_MONTH[m - 1]


def _add_minutes(d: tuple[int, int, int, int, int], minutes: int) -> tuple[int, int, int, int, int]:
    """(y, mo, d, h, mi) + minutes, without datetime (cheap, forward only)."""
    y, mo, dd, h, mi = d
    total = h * 60 + mi + minutes
    days, rem = divmod(total, 1440)
    h, mi = divmod(rem, 60)
    dd += days
    while dd > _mdays(y, mo):
        dd -= _mdays(y, mo)
        mo += 1
        if mo > 12:
            mo = 1
            y += 1
    return (y, mo, dd, h, mi)


def _sub_days(y: int, mo: int, dd: int, days: int) -> tuple[int, int, int]:
    dd -= days
    while dd < 1:
        mo -= 1
        if mo < 1:
            mo = 12
            y -= 1
        dd += _mdays(y, mo)
    return (y, mo, dd)


def _stamp(y: int, mo: int, dd: int, h: int, mi: int, s: int, off: str, frac: str = "") -> str:
    return f"{y:04d}-{mo:02d}-{dd:02d}T{h:02d}:{mi:02d}:{s:02d}{frac}{off}"


def _title(r: _R) -> str:
    t = r.choice(TOPICS)
    t2 = r.choice(TOPICS)
    s = r.choice(SUBJECTS)
    form = r.choice(TITLE_FORMS)
    o = r.choice(OBJECTS).format(t=t)
    title = form.format(
        s=s,
        v=r.choice(VERBS), o=o, t=t, t2=t2, T=r.choice(("Large language models", t + " systems")),
        q=r.choice(QUOTES),
    )
    return title + r.choice(SPICE)


def _sentences(r: _R, k: int) -> str:
    out = []
    for _ in range(k):
        s = r.choice(SUBJECTS)
        out.append(r.choice(SENTENCES).format(t=r.choice(TOPICS), s=s.lower(), S=s))
    return " ".join(out)


def _slug(r: _R) -> str:
    return "-".join(r.choice(SLUG_WORDS) for _ in range(r.randint(3, 8)))


def _image(r: _R, y: int, mo: int, indent: str) -> str:
    w = r.choice((640, 800, 1024, 1200, 1280, 1600, 1920, 2100))
    h = w * r.choice((9, 10, 12, 9)) // 16 + r.randint(0, 3)
    host = r.choice(IMAGE_HOSTS)
    name = f"{r.getrandbits(40):010x}"
    ext = r.choice(("jpg", "jpg", "jpg", "png", "webp"))
    query = r.choice(("", "", f"?w={w}", f"?w={w}&h={h}&fit=crop"))
    url = f"https://{host}/uploads/{y:04d}/{mo:02d}/{name}.{ext}{query}"
    cached = "true" if r.random() < 0.8 else "false"
    return (
        f"{indent}- url: {_q(url)}\n"
        f"{indent}  width: {w}\n"
        f"{indent}  height: {h}\n"
        f"{indent}  isCached: {cached}\n"
    )


def _body(r: _R) -> str:
    """A few paragraphs of Markdown (CommonMark): emphasis, links, lists, code, quotes."""
    parts: list[str] = []
    for p in range(r.randint(2, 5)):
        kind = r.random()
        if p > 0 and kind < 0.12:
            parts.append(f"## {r.choice(TOPICS)} in context")
        elif p > 0 and kind < 0.22:
            parts.append("\n".join(f"- {_sentences(r, 1)}" for _ in range(r.randint(2, 4))))
        elif p > 0 and kind < 0.27:
            parts.append("> " + _sentences(r, 2))
        elif p > 0 and kind < 0.30:
            parts.append("```python\nmodel = load(\"checkpoint\")\nprint(model(\"hello\"))\n```")
        elif p > 0 and kind < 0.33:
            parts.append("---")  # a thematic break in the body: front matter must end at the 2nd ---
        text = _sentences(r, r.randint(2, 5))
        words = text.split(" ")
        if len(words) > 6:
            j = r.randrange(len(words) - 3)
            words[j] = f"**{words[j]}**"
            j = r.randrange(len(words) - 3)
            link = f"https://{r.choice(PROVIDERS)[1]}/{_slug(r)}"
            words[j] = f"[{r.choice(LINK_TEXT)}]({link}) {words[j]}"
            if r.random() < 0.3:
                j = r.randrange(len(words))
                words[j] = f"*{words[j]}*"
        parts.append(" ".join(words))
    return "\n\n".join(parts) + "\n"


# ---------------------------------------------------------------------------------------------
# One article
# ---------------------------------------------------------------------------------------------

def _name_hex(i: int, seed: int) -> str:
    return hashlib.blake2b(f"name:{seed}:{i}".encode(), digest_size=8).hexdigest()


def article_relpath(i: int, seed: int = 0, n: int = 100_000) -> str:
    """``DD/NNNNNN_<hex>.txt`` for article i of a corpus of n (n only sets the folder width)."""
    width = max(2, len(str(max(n - 1, 0) // FILES_PER_DIR)))
    return f"{i // FILES_PER_DIR:0{width}d}/{i:06d}_{_name_hex(i, seed)}.txt"


def article_text(i: int, seed: int = 0) -> str:
    """The full text of article i (pure, deterministic)."""
    r = _R(f"{seed}:{i}")
    rnd = r.random
    choice = r.choice
    randint = r.randint

    pname, pdomain = choice(PROVIDERS)
    topics = r.sample(TOPICS, randint(1, 4))
    category = choice(CATEGORIES)
    typ = choice(TYPES)

    # Publication date: 2015-01-01 .. 2026-12-31, local wall time + offset.
    y = randint(2015, 2026)
    mo = randint(1, 12)
    dd = randint(1, _mdays(y, mo))
    h, mi, sec = randint(0, 23), randint(0, 59), choice((0, 0, 0, randint(0, 59)))
    off, _ = choice(OFFSETS)
    frac = f".{randint(0, 999):03d}" if rnd() < 0.05 else ""
    published_at = _stamp(y, mo, dd, h, mi, sec, off, frac)

    slug = _slug(r)
    host = pdomain if pdomain.count(".") > 1 else f"www.{pdomain}"
    path = f"/{y:04d}/{mo:02d}/{dd:02d}/{randint(1_000_000, 1_099_999)}/{slug}/"
    web = f"https://{host}{path}"
    original = web if rnd() < 0.9 else f"{web}?utm_source=rss&utm_medium=feed"
    cdn = f"https://{host.replace('-', '--').replace('.', '-')}.cdn.ampproject.org/c/s/{host}{path}amp/"

    quality = randint(0, 100)
    heat = max(0, min(100, quality + randint(-20, 20))) if rnd() < 0.6 else quality
    published = "true" if rnd() < 0.8 else "false"

    lines = [
        "---\n",
        f"category: {category}\n",
        f"title: {_q(_title(r))}\n",
        f"excerpt: {_q(_sentences(r, randint(1, 3)))}\n",
        f"publishedDateTime: {published_at}\n",
    ]
    if rnd() < 0.3:
        uy, umo, udd, uh, umi = _add_minutes((y, mo, dd, h, mi), randint(5, 60 * 24 * 30))
        lines.append(f"updatedDateTime: {_stamp(uy, umo, udd, uh, umi, randint(0, 59), off)}\n")
    lines += [
        f"originalUrl: {_q(original)}\n",
        f"webUrl: {_q(web)}\n",
        f"ampWebUrl: {_q(web + 'amp/')}\n",
        f"cdnAmpWebUrl: {_q(cdn)}\n",
        f"type: {typ}\n",
    ]
    if rnd() < 0.5:
        lines.append(f"locale: {choice(LOCALES)}\n")
    lines += [
        f"quality: {quality}\n",
        f"heat: {heat}\n",
        f"published: {published}\n",
        "\n",
        "provider:\n",
        f"  name: {pname}\n",
        f"  domain: {pdomain}\n",
        "\n",
        "topics:\n",
    ]
    lines += [f"  - {t}\n" for t in topics]
    if rnd() < 0.4:
        lines.append("\n")
        lines.append("tags:\n")
        lines += [f"  - {t}\n" for t in r.sample(TAGS, randint(1, 5))]

    n_images = choice((0, 1, 1, 1, 2, 3))
    if n_images:
        lines.append("\n")
        lines.append("images:\n")
        lines += [_image(r, y, mo, "  ") for _ in range(n_images)]

    n_related = choice((0, 0, 1, 1, 2, 3))
    if n_related:
        lines.append("\n")
        lines.append("related:\n")
        for _ in range(n_related):
            rpname, rpdomain = choice(PROVIDERS)
            ry, rmo, rdd = _sub_days(y, mo, dd, randint(0, 10))
            rhost = rpdomain if rpdomain.count(".") > 1 else f"www.{rpdomain}"
            rtime = (0, 0) if rnd() < 0.6 else (randint(0, 23), randint(0, 59))
            lines += [
                f"  - title: {_q(_title(r))}\n",
                f"    excerpt: {_q(_sentences(r, randint(2, 4)) + ' ...')}\n",
                f"    publishedDateTime: {_stamp(ry, rmo, rdd, rtime[0], rtime[1], 0, choice(OFFSETS)[0])}\n",
                f"    webUrl: {_q(f'https://{rhost}/en/{_slug(r)}/')}\n",
                f"    type: {choice(TYPES)}\n",
                "    provider:\n",
                f"      name: {rpname}\n",
                f"      domain: {rpdomain}\n",
                f"    quality: {randint(0, 100)}\n",
            ]
            rn_images = choice((0, 1, 1, 2))
            if rn_images:
                lines.append("    images:\n")
                lines += [_image(r, ry, rmo, "      ") for _ in range(rn_images)]

    # "<base64 ciphertext>;<base64 16-byte IV>", ciphertext 480..1320 chars (mean ~900).
    cipher = base64.b64encode(r.randbytes(16 * randint(22, 61))).decode("ascii")
    iv = base64.b64encode(r.randbytes(16)).decode("ascii")
    lines += ["\n", f'secured: "{cipher};{iv}"\n', "---\n", "\n"]
    if rnd() < 0.2:
        lines.append(_body(r))
    return "".join(lines)


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------

def _write_range(args: tuple[str, int, int, int, int]) -> int:
    root, n, seed, lo, hi = args
    for i in range(lo, hi):
        with open(os.path.join(root, article_relpath(i, seed, n)), "wb") as f:
            f.write(article_text(i, seed).encode("utf-8"))
    return hi - lo


def generate(root: Path, n: int, seed: int = 0, processes: int | None = None) -> list[Path]:
    """Write n articles under root (created if needed) and return their paths, sorted.

    Existing files with the same names are overwritten; nothing else under root is touched,
    so use a fresh (or same-(n, seed)) folder. ``processes`` (default: all cores; 1 = in
    process) only changes the speed: every article is drawn from its own generator, so the
    bytes are the same whatever the number of processes.
    """
    root = Path(root)
    if n < 0:
        raise ValueError("n must be >= 0")
    rels = [article_relpath(i, seed, n) for i in range(n)]
    for d in sorted({rel.split("/", 1)[0] for rel in rels}):
        (root / d).mkdir(parents=True, exist_ok=True)
    tasks = [(str(root), n, seed, lo, min(lo + FILES_PER_DIR, n)) for lo in range(0, n, FILES_PER_DIR)]
    processes = min(processes or os.cpu_count() or 1, len(tasks))
    if processes <= 1:
        for t in tasks:
            _write_range(t)
    else:
        import multiprocessing

        with multiprocessing.get_context().Pool(processes) as pool:
            for _ in pool.imap_unordered(_write_range, tasks):
                pass
    return [root / rel for rel in rels]  # sorted: folder, then zero-padded index


def _retitle(text: str, r: _R) -> str:
    """Replace the top-level title and excerpt lines (the first ones at column 0)."""
    lines = text.split("\n")
    done = 0
    for k, line in enumerate(lines):
        if line.startswith("title: "):
            new = _q(_title(r) + " (updated)")
            lines[k] = "title: " + (new if new != line[7:] else _q("Updated: " + _title(r)))
            done |= 1
        elif line.startswith("excerpt: "):
            lines[k] = "excerpt: " + _q("Update: " + _sentences(r, r.randint(1, 3)))
            done |= 2
        elif line == "---" and k > 0:
            break
        if done == 3:
            break
    return "\n".join(lines)


def touch(paths: list[Path], fraction: float = 0.01, seed: int = 0) -> list[Path]:
    """Rewrite round(len(paths) * fraction) (at least 1) files: new title and excerpt.

    The choice of files and the new text depend only on (sorted file names, fraction, seed),
    never on the clock; the rest of each file is kept byte for byte. Calling it again with
    another seed changes the same kind of fields again. Returns the rewritten paths, sorted.
    """
    ordered = sorted(Path(p) for p in paths)
    if not ordered or fraction <= 0:
        return []
    k = min(len(ordered), max(1, round(len(ordered) * fraction)))
    chosen = sorted(random.Random(f"touch:{seed}:{len(ordered)}").sample(ordered, k))
    for p in chosen:
        text = p.read_bytes().decode("utf-8")
        new = _retitle(text, _R(f"touch:{seed}:{p.name}"))
        with open(p, "wb") as f:
            f.write(new.encode("utf-8"))
    return chosen


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("dir", type=Path)
    ap.add_argument("n", type=int)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--processes", type=int, default=None, help="default: all cores")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    paths = generate(a.dir, a.n, a.seed, a.processes)
    dt = time.perf_counter() - t0
    size = sum(p.stat().st_size for p in paths)
    print(f"generated {len(paths)} articles ({size / 1e6:.1f} MB) in {a.dir} "
          f"in {dt:.2f} s ({dt / max(len(paths), 1) * 1e6:.0f} us/article)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
