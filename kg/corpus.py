"""Ingestion: article files (txt / html / jsonl) -> cleaned :class:`kg.model.Article` objects.

Plain text is cleaned by general line rules (ads, share/subscribe prompts, bylines, photo
credits, navigation headers, "Most Read" tails, menu footers, contact and copyright lines);
HTML goes through trafilatura first. Metadata (title, date, outlet) is read from the raw text,
never from the machine's clock.
"""
from __future__ import annotations

import codecs
import datetime as _dt
import hashlib
import itertools
import json
import os
import re
import stat
from pathlib import Path
from typing import Callable, Iterable, Iterator

from kg.model import Article

#: file suffixes read as articles
ARTICLE_SUFFIXES = (".txt", ".html", ".htm", ".jsonl")
HTML_SUFFIXES = (".html", ".htm")


class CorpusError(Exception):
    """A file that cannot become an article; the message names the file and the problem."""


# --------------------------------------------------------------------------- paths


def iter_paths(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Expand files and directories (recursively, sorted, skipping hidden files) into article files."""
    seen: set[Path] = set()
    for given in paths:
        path = Path(given)
        if not path.exists():
            raise CorpusError(f"{path}: no such file or directory")
        found = _walk(path) if path.is_dir() else [_checked_file(path)]
        for item in found:
            key = item.resolve()
            if key not in seen:
                seen.add(key)
                yield item


def _checked_file(path: Path) -> Path:
    if path.suffix.lower() not in ARTICLE_SUFFIXES:
        raise CorpusError(f"{path}: unsupported file type (expected {', '.join(ARTICLE_SUFFIXES)})")
    return path


def _walk(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith(".") and Path(name).suffix.lower() in ARTICLE_SUFFIXES:
                yield Path(dirpath) / name


# --------------------------------------------------------------------------- reading


def read_file(path: Path) -> list[Article]:
    """Read one file: .txt / .html / .htm -> one Article, .jsonl -> one Article per line."""
    return list(iter_file(path))


def iter_file(path: Path, want: Callable[[str, str], bool] | None = None) -> Iterator[Article]:
    """The articles of one file as ``read_file`` gives them, made one at a time. Given
    ``want(id, sha256)``, an article that is not wanted is left out before it is decoded and
    cleaned (its id and hash come from the raw bytes or .jsonl line). A bad line raises when
    it is reached."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in ARTICLE_SUFFIXES:
        raise CorpusError(f"{path}: unsupported file type (expected {', '.join(ARTICLE_SUFFIXES)})")
    try:
        regular = stat.S_ISREG(path.stat().st_mode)
    except OSError:
        regular = True  # reading it names the problem
    if not regular:  # a pipe or a device would block the build or never end
        raise CorpusError(f"{path}: not a regular file")
    if suffix == ".jsonl":  # streamed: a feed may be large, and a build holds it while its articles are built
        yield from _read_jsonl(path, want)
        return
    data = _read_bytes(path)
    if not data.strip():
        raise CorpusError(f"{path}: empty article")
    sha = hashlib.sha256(data).hexdigest()
    if want is not None and not want(path.stem, sha):
        return
    if suffix in HTML_SUFFIXES:
        yield _read_html(path, data, sha)
    else:
        yield article_from_text(decode_bytes(data, path), id=path.stem, source=str(path), sha256=sha)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise _cannot_read(path, exc) from None


def _read_jsonl(path: Path, want: Callable[[str, str], bool] | None = None) -> Iterator[Article]:
    """A .jsonl file line by line, decoded as :func:`decode_bytes` would decode it whole (the
    encoding is chosen by a first pass over the bytes): only one line is held at a time."""
    codec = choose_codec(_chunks(path), path)
    found = False
    try:
        with open(path, encoding=codec, newline="\n") as lines:  # JSON Lines end at \n (or \r\n)
            for lineno, line in enumerate(lines, start=1):
                line = line.removesuffix("\n").removesuffix("\r")
                if line.strip():
                    found = True
                    where, id, sha, body, fields = _jsonl_record(path, lineno, line)
                    if want is None or want(id, sha):
                        yield _build_article(body, where=where, id=id, source=str(path), sha256=sha, **fields)
    except OSError as exc:
        raise _cannot_read(path, exc) from None
    except UnicodeDecodeError:  # the file changed since its encoding was chosen
        raise CorpusError(f"{path}: not a text file (invalid {codec.upper()})") from None
    if not found:
        raise CorpusError(f"{path}: empty article")


def _cannot_read(path: Path, exc: OSError) -> CorpusError:
    return CorpusError(f"{path}: cannot read ({exc.strerror or type(exc).__name__})")


def _chunks(path: Path, size: int = 4 * (1 << 16) + 4) -> Iterator[bytes]:
    """The file's bytes, 256 KiB and 4 at a time: the first holds ``choose_codec``'s sample of
    ``BINARY_SAMPLE`` characters even in UTF-32 after its byte-order mark."""
    try:
        with open(path, "rb") as f:
            while chunk := f.read(size):
                yield chunk
    except OSError as exc:
        raise _cannot_read(path, exc) from None


def _jsonl_record(path: Path, lineno: int, line: str) -> tuple[str, str, str, str, dict]:
    """One line's place, article id, SHA-256, text and metadata, checked but not cleaned."""
    where = f"{path}:{lineno}"
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        at = "" if exc.msg.endswith(" at") else " at"  # "Unterminated string starting at"
        raise CorpusError(f"{where}: bad JSON line ({exc.msg}{at} column {exc.colno})") from None
    if not isinstance(record, dict):
        raise CorpusError(f"{where}: bad JSON line (expected an object)")
    body = record.get("text")
    if not isinstance(body, str):
        raise CorpusError(f"{where}: bad JSON line (no string 'text' field)")
    try:
        body.encode("utf-8")
    except UnicodeEncodeError:
        raise CorpusError(f"{where}: bad JSON line (an escape of half a surrogate pair)") from None
    fields = {k: _opt_str(record.get(k)) for k in ("title", "date", "url", "outlet")}
    id = _opt_str(record.get("id")) or f"{path.stem}_{lineno}"
    # of what the article is made from but its id: a corrected title or date is a change to
    # build, and the same record under two ids is the same text
    content = json.dumps({"text": body, **{k: v for k, v in fields.items() if v is not None}},
                         sort_keys=True, ensure_ascii=False)
    digest = hashlib.sha256(content.encode("utf-8", "surrogatepass")).hexdigest()  # bad metadata: reported later
    return where, id, digest, body, fields


def _opt_str(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


# --------------------------------------------------------------------------- decoding

#: byte-order marks, longest first (UTF-32 LE starts like UTF-16 LE)
BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"),
)
#: C0 control bytes that never occur in text (tab, LF, VT, FF, CR and ESC excluded)
CONTROL_BYTES = bytes([*range(0, 9), 14, 15, *range(16, 27), *range(28, 32), 127])
#: share of control characters above which content is binary
MAX_CONTROL_SHARE = 0.02
#: share of non-ASCII bytes above which undecodable bytes are not taken for Latin-1 text
MAX_LATIN_HIGH_SHARE = 0.3
BINARY_SAMPLE = 1 << 16


def decode_bytes(data: bytes, path: Path | str = "<bytes>") -> str:
    """Decode file bytes: BOMs, UTF-8, else cp1252/latin-1 when the bytes look like text."""
    return data.decode(choose_codec([data], path))


#: the bytes cp1252 leaves undefined (a text with one of them is read as latin-1)
CP1252_UNDEFINED = re.compile(b"[\x81\x8d\x8f\x90\x9d]")


def choose_codec(chunks: Iterable[bytes], path: Path | str = "<bytes>") -> str:
    """The codec :func:`decode_bytes` decodes a file's bytes with, given as consecutive
    chunks (the first at least ``BINARY_SAMPLE`` bytes long unless it is all): a byte-order
    mark's, else UTF-8, else cp1252 (latin-1 if a byte is undefined there) when the bytes
    look like text. Bad bytes raise :class:`CorpusError` naming ``path``."""
    chunks = iter(chunks)
    first = next(chunks, b"")
    for bom, codec in BOMS:
        if first.startswith(bom):
            decoder = codecs.getincrementaldecoder(codec)()
            try:
                sample = decoder.decode(first)[:BINARY_SAMPLE]
                for chunk in chunks:
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                raise CorpusError(f"{path}: not a text file (invalid {codec.upper()})") from None
            if _control_share(sample) > MAX_CONTROL_SHARE:
                raise CorpusError(f"{path}: not a text file (binary content)")
            return codec
    utf8, undefined = codecs.getincrementaldecoder("utf-8")(), False
    for chunk in itertools.chain([first], chunks):
        if b"\x00" in chunk or (chunk is first and _looks_binary(first)):
            raise CorpusError(f"{path}: not a text file (binary content)")
        undefined = undefined or CP1252_UNDEFINED.search(chunk) is not None
        if utf8 is not None:
            try:
                utf8.decode(chunk)
            except UnicodeDecodeError:
                utf8 = None
    if utf8 is not None:
        try:
            utf8.decode(b"", final=True)
            return "utf-8"
        except UnicodeDecodeError:
            pass
    if not _looks_latin(first):
        raise CorpusError(f"{path}: not a text file (neither UTF-8 nor Latin-1 text)")
    return "latin-1" if undefined else "cp1252"


def _looks_binary(data: bytes) -> bool:
    sample = data[:BINARY_SAMPLE]
    if b"\x00" in data:
        return True
    controls = len(sample) - len(sample.translate(None, CONTROL_BYTES))
    return controls > MAX_CONTROL_SHARE * len(sample)


def _control_share(text: str) -> float:
    if not text:
        return 0.0
    bad = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\x0b\x0c\x1b" or ch == "\x7f")
    return bad / len(text)


def _looks_latin(data: bytes) -> bool:
    sample = data[:BINARY_SAMPLE]
    high = sum(1 for b in sample if b >= 0x80)
    return high <= MAX_LATIN_HIGH_SHARE * len(sample)


#: zero-width characters are removed, other line breaks become \n
NORMALIZE_TABLE = str.maketrans(
    {**dict.fromkeys("\u200b\u200c\u200d\ufeff"), **dict.fromkeys("\r\x0b\x0c\x85\u2028\u2029", "\n")}
)


_TO_NORMALIZE = re.compile("[" + "".join(chr(c) for c in NORMALIZE_TABLE) + "]")


def normalize_text(text: str) -> str:
    """Newlines to \\n, zero-width characters removed; everything else kept."""
    text = text.replace("\r\n", "\n")
    # str.translate looks up every character; most texts have none of these
    return text.translate(NORMALIZE_TABLE) if _TO_NORMALIZE.search(text) else text


# --------------------------------------------------------------------------- HTML

CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w-]+)""", re.I)
#: elements whose text never reaches the article (fallback path)
NON_TEXT_TAGS = ("script", "style", "noscript", "template", "head", "svg", "iframe")
BLOCK_TAGS = ("p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section",
              "article", "blockquote", "header", "footer", "ul", "ol", "table", "pre", "figcaption")


def _read_html(path: Path, data: bytes, sha: str) -> Article:
    html = _decode_html(data, path)
    body, meta = _trafilatura_extract(html)
    if not body or not body.strip():
        body, meta = _strip_tags(html)
    return _build_article(body, where=str(path), id=path.stem, source=str(path), sha256=sha, **meta)


def _decode_html(data: bytes, path: Path) -> str:
    """Like :func:`decode_bytes`, but a page that is not UTF-8 may declare its charset."""
    if not data.startswith(tuple(bom for bom, _ in BOMS)) and not _looks_binary(data):
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            declared = CHARSET_RE.search(data[:4096])
            try:
                if declared:
                    return data.decode(declared.group(1).decode("ascii"))
            except (LookupError, UnicodeDecodeError):
                pass
    return decode_bytes(data, path)


def _trafilatura_extract(html: str) -> tuple[str | None, dict]:
    import trafilatura

    try:
        doc = trafilatura.bare_extraction(
            html, with_metadata=True, include_comments=False, include_tables=True,
            date_extraction_params={"extensive_search": True, "original_date": True},
        )
    except Exception:  # trafilatura raises assorted errors on odd markup: fall back
        return None, {}
    if doc is None:
        return None, {}
    get = doc.get if isinstance(doc, dict) else lambda k: getattr(doc, k, None)
    meta = {"title": get("title"), "date": get("date"), "url": get("url"), "outlet": get("sitename")}
    return get("text"), meta


def _strip_tags(html: str) -> tuple[str, dict]:
    """Fallback: all text outside script/style, one line per block element."""
    import lxml.html
    from lxml import etree

    try:
        root = lxml.html.document_fromstring(html.encode("utf-8"),
                                             parser=lxml.html.HTMLParser(encoding="utf-8"))
    except (etree.ParserError, ValueError):
        return "", {}
    title = root.findtext(".//title")
    etree.strip_elements(root, etree.Comment, *NON_TEXT_TAGS, with_tail=False)
    for el in root.iter(*BLOCK_TAGS):
        el.tail = "\n" + (el.tail or "")
    return root.text_content(), {"title": _opt_str(title)}


# --------------------------------------------------------------------------- articles


def article_from_text(raw: str, *, id: str, source: str | None = None, sha256: str = "",
                      title=None, date=None, url=None, outlet=None) -> Article:
    """Clean ``raw`` and read its metadata; given metadata wins over what the text says."""
    return _build_article(raw, where=source or id, id=id, source=source, sha256=sha256,
                          title=title, date=date, url=url, outlet=outlet)


def _build_article(raw: str, *, where: str, id: str, source, sha256, title=None, date=None,
                   url=None, outlet=None) -> Article:
    raw = normalize_text(raw)
    text = clean_text(raw)
    if not text:
        raise CorpusError(f"{where}: empty article")
    return Article(
        id=id, text=text, title=_opt_str(title) or find_title(text),
        date=normalize_date(date) or find_date(raw),
        outlet=_opt_str(outlet) or find_outlet(raw) or dateline_outlet(raw),
        url=_opt_str(url), sha256=sha256, source=source,
    )


# --------------------------------------------------------------------------- cleaning

_SENT_END = ".!?\"”’»)…"

#: whole lines that are boilerplate wherever they occur (matched against the stripped line)
BOILERPLATE_LINE_PATTERNS = (
    r"\[\s*ad_?\d*\s*\]",                                        # [ad_1]
    r"[-–—•*\s]*(advertisement|advertising|sponsored( content)?|ad)[-–—•*\s]*",
    r"scroll (down )?to continue( reading)?",
    r"source link",
    r"sources?\s*:\s*\S.{0,80}",                                  # Source: businessman
    r"(photo|image|picture|video)\s*(credit)?s?\s*:\s*\S.{0,80}",
    r"credits?\s*:\s*\S.{0,80}",
    r"translat(ion|ed)\s*(by\b|:)\s*\S.{0,40}",
    r"\(?(additional )?(reporting|editing|writing|compiled) by\b.{0,160}",
    r"(tags?|topics?|filed under|categories|category|keywords)(\s*:.{0,200}|\s+[^.!?]{1,150})",
    r"(#[\w\-]+[\s,]*)+",                                          # hashtag-only lines
    r"(subscribe|sign up|signup|register|join)\b.{0,200}"
    r"\b(newsletters?|inbox|latest news|updates|mailing list|our channel)\b.{0,200}",
    r"(subscribe|sign up) (now|here|today|for free)?.{0,30}",
    r"share (this|on|via|with|the article|article|story)\b.{0,200}",
    r"share\s*:.{0,200}",                                          # Share: Facebook X ...
    r"(follow|find|like) us (on|at)\b.{0,200}",
    r"our (telegram|youtube|vk|twitter|x|facebook|instagram|tiktok|whatsapp|rutube|zen)"
    r" (channel|page|account|group)s?\s*:?.{0,100}",
    r"(read more|read also|also read|see also|related|recommended|click here)\b\s*:.{0,200}",
    r"(for more|for the latest|read more|click here|visit|go to)\b.{0,160}"
    r"(https?://|www\.|\b[\w-]+\.(com|org|net|ru|kz|info|news|io|uk)\b).{0,60}",
)
BOILERPLATE_LINE_RE = re.compile("|".join(f"(?:{p})" for p in BOILERPLATE_LINE_PATTERNS), re.I)
#: boilerplate marks anywhere in a line: copyright, contact details, social-media prompts
BOILERPLATE_MARK_PATTERNS = (
    r"all rights reserved|©|\(c\) \d{4}|\bcopyright\s*(©|\(c\)|\d{4})",
    r"\b(e-?mail|tel|telephone|phone|fax|mobile)\s*:\s*[+\d(\[*]|\btel\.\s*[+\d]|\[email\s*protected\]",
    r"[\w.+-]@[\w-]+\.[a-z]{2,}\b",  # an e-mail address
    r"\b(stay tuned|subscribe|follow us|join us)\b.{0,40}"
    r"\b(telegram|youtube|twitter|facebook|instagram|vk|tiktok|whatsapp)\b",
)
BOILERPLATE_MARK_RE = re.compile("|".join(f"(?:{p})" for p in BOILERPLATE_MARK_PATTERNS), re.I)
#: a short line opening a tail block of links ("Most Read", "Trending", ...)
TAIL_HEADING_RE = re.compile(
    r"(most (read|popular|viewed|shared|commented)|hot (opinion|topics|news)"
    r"|trending( now| articles| stories| news)?|related( articles| posts| news| stories| content)?"
    r"|you (may|might) also like|recommended( for you| stories)?"
    r"|more (stories|news|from [\w .]{1,40})|latest (news|stories|articles)|top stories|editor'?s picks"
    r"|popular( now| posts)?|comments?|read (more|next|also))\s*:?", re.I)
#: a credit parenthetical inside a caption line: "(photo credit: Sputnik/Reuters)"
CREDIT_RE = re.compile(
    r"\s*\((?:(?:photo|image|picture|pic|video)s?\s*(?:credits?)?\s*:|credits?\s*:"
    r"|(?:photo|image|picture)s?\s+(?:by|via|courtesy of)\b)[^()]*\)",
    re.I)
TIMESTAMP_RE = re.compile(
    r"(?:published|posted|first published|updated|last updated|date)(?:\s+on)?\s*:?\s*(.{4,100})", re.I)
KEY_WORD_RE = re.compile(r"\w+")
SPACES_RE = re.compile(r"[ \t\u00a0]{2,}")
BYLINE_RE = re.compile(r"(?:by|written by|author:)\s+(?P<names>.+)", re.I)
BYLINE_JOINERS = {"and", "&", "de", "van", "von", "der", "al", "el", "bin", "ibn"}
#: scraper artefacts before the headline: " date 2022-12-05 ", "/ world today news/ "
LEADING_MARKER_RE = re.compile(r"\A\s*(?:date\s*:?\s*\d{4}-\d{2}-\d{2}\s*|/\s*[\w .'-]{2,40}/\s*)+", re.I)
SENTENCE_PUNCT_RE = re.compile(r"[.!?,;:\"“”«»]")
WORD_RE = re.compile(r"[^\W\d_][\w'’-]*")
BULLET_RE = re.compile(r"^\s*([-–—•*·▪►]|\d+[.)])\s+")

#: navigation header: a first line of capitalised words, this many with a menu mark
#: (a repeated word, "&", "|") or NAV_PLAIN_WORDS without
NAV_MIN_WORDS = 8
NAV_PLAIN_WORDS = 12
NAV_CAPITAL_SHARE = 0.9
#: a menu run: at least this many consecutive short lines without sentence punctuation
MENU_RUN = 4
MENU_MAX_WORDS = 6
#: tail blocks are cut when at most this share of what follows reads like body text
TAIL_BODY_SHARE = 0.2
#: longer lines are never boilerplate (and are not run through the line rules)
MAX_BOILERPLATE_CHARS = 1000
#: a line with a boilerplate mark (copyright, e-mail, ...) goes when at most this long
MAX_MARKED_CHARS = 600
#: shorter repeated lines may be real speech ("Yes," he said.) and are kept
MIN_REPEAT_WORDS = 5
#: a headline (title) is at most this many words and does not end with a full stop
TITLE_MAX_WORDS = 25


def clean_text(text: str) -> str:
    """Remove boilerplate lines/blocks from plain article text by general rules."""
    text = LEADING_MARKER_RE.sub("", normalize_text(text))
    lines = [_clean_line(line) for line in text.split("\n")]
    lines = _drop_nav_header(lines)
    lines = _cut_tail_block(lines)
    lines = [line for line in lines if not _is_boilerplate(line)]
    lines = _drop_menu_runs(lines)
    lines = _drop_repeats(lines)
    lines = [line for line in lines if _meta_date(line) is None]
    lines = _strip_dateline(lines)
    return _join(lines)


def _clean_line(line: str) -> str:
    """Strip whitespace and credit parentheticals; collapse a caption printed twice."""
    if "(" in line:
        line = CREDIT_RE.sub(" ", line)
    line = SPACES_RE.sub(" ", line).strip()
    return _undouble(line)


def _undouble(line: str) -> str:
    """'A caption. A caption.' -> 'A caption.'"""
    if not 40 <= len(line) <= MAX_BOILERPLATE_CHARS:
        return line
    first = line.split(None, 1)[0]
    start = line.find(first, len(line) // 3)
    while 0 < start < len(line) * 2 // 3 + 1:
        head, tail = line[:start].strip(), line[start:].strip()
        if abs(len(head) - len(tail)) <= 3 and _key(head) == _key(tail):
            return head
        start = line.find(first, start + 1)
    return line


def _key(line: str) -> str:
    """Comparison key: case-folded words only."""
    return " ".join(KEY_WORD_RE.findall(line.casefold()))


def _words(line: str) -> list[str]:
    return WORD_RE.findall(line)


def _is_boilerplate(line: str) -> bool:
    if not line or len(line) > MAX_BOILERPLATE_CHARS:
        return False
    return (_is_byline(line) or _is_timestamp(line)
            or BOILERPLATE_LINE_RE.fullmatch(line) is not None
            or (len(line) <= MAX_MARKED_CHARS and BOILERPLATE_MARK_RE.search(line) is not None))


def _is_timestamp(line: str) -> bool:
    """'Published: DECEMBER 5, 2022 05:22', 'Updated on 5 Dec 2022'."""
    m = TIMESTAMP_RE.fullmatch(line)
    if not m or len(m.group(1).split()) > 8:
        return False
    return bool(parse_date(m.group(1)) or re.search(r"\d{1,2}:\d{2}", m.group(1)))


def _is_byline(line: str) -> bool:
    """'By MOHAMMAD AL-KASSIM/THE MEDIA LINE', 'By Jane Q. Doe and John Roe'."""
    m = BYLINE_RE.fullmatch(line)
    if not m or len(line) > 100 or re.search(r"[,;:!?\"“”]", m.group("names")):
        return False
    names = m.group("names")
    tokens = [t for t in re.split(r"[\s/|]+", names) if t]
    if not 0 < len(tokens) <= 8 or (names.endswith(".") and not re.search(r"\b[A-Z]\.$", names)):
        return False
    return all(t[0].isupper() or t.lower() in BYLINE_JOINERS for t in tokens)


def _is_capitalised_run(line: str) -> bool:
    """A line of capitalised words with no sentence punctuation (menus, section labels)."""
    words = _words(line)
    if not words or SENTENCE_PUNCT_RE.search(line):
        return False
    capital = sum(1 for w in words if w[0].isupper())
    return capital >= NAV_CAPITAL_SHARE * len(words)


def _is_nav_line(line: str) -> bool:
    words = _words(line)
    if len(words) < NAV_MIN_WORDS or not _is_capitalised_run(line):
        return False
    repeated = len({w.lower() for w in words}) < len(words)
    return len(words) >= NAV_PLAIN_WORDS or repeated or bool(re.search(r"[&|•»]", line))


def _drop_nav_header(lines: list[str]) -> list[str]:
    """A site navigation header: a leading menu line and the label lines glued to it."""
    first = next((i for i, line in enumerate(lines) if line), None)
    if first is None or not _is_nav_line(lines[first]):
        return lines
    end = first + 1
    while end < len(lines) and lines[end] and _is_capitalised_run(lines[end]):
        end += 1
    return lines[:first] + lines[end:]


def _is_body_like(line: str) -> bool:
    return len(_words(line)) >= 12 and line.rstrip()[-1:] in _SENT_END


def _cut_tail_block(lines: list[str]) -> list[str]:
    """From a 'Most Read' / 'Trending' heading to the end, when what follows is link-like."""
    for i, line in enumerate(lines):
        if line and len(line) <= 60 and TAIL_HEADING_RE.fullmatch(line):
            after = [x for x in lines[i + 1:] if x]
            body = sum(1 for x in after if _is_body_like(x))
            if body <= TAIL_BODY_SHARE * len(after) and (body <= 3 or not after):
                return lines[:i]
    return lines


def _is_menu_line(line: str) -> bool:
    return (bool(line) and len(_words(line)) <= MENU_MAX_WORDS and len(line) <= 60
            and line[-1] not in _SENT_END + ":;" and not BULLET_RE.match(line))


def _drop_menu_runs(lines: list[str]) -> list[str]:
    """Runs of >= MENU_RUN short unpunctuated lines (blank lines ignored) are footer menus."""
    drop: set[int] = set()
    run: list[int] = []
    for i, line in enumerate(lines + ["."]):
        if not line:
            continue
        if _is_menu_line(line):
            run.append(i)
            continue
        if len(run) >= MENU_RUN:
            drop.update(run)
        run = []
    return [line for i, line in enumerate(lines) if i not in drop]


def _drop_repeats(lines: list[str]) -> list[str]:
    """A line repeating an earlier one (title again, caption printed twice) goes."""
    seen: set[str] = set()
    title = next((_key(line) for line in lines if _key(line)), "")
    out = []
    for line in lines:
        key = _key(line)
        if key == title or key.count(" ") + 1 >= MIN_REPEAT_WORDS:
            if key in seen:
                continue
            seen.add(key)
        out.append(line)
    return out


def _join(lines: list[str]) -> str:
    """Join lines, keeping single blank lines between paragraphs."""
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# --------------------------------------------------------------------------- metadata

#: month names by their first three letters
MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8,
    "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}
_MONTH = (r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
          r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
MDY_RE = re.compile(_MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4})\b", re.I)
DMY_RE = re.compile(r"\b(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH + r",?\s+(?P<year>\d{4})\b", re.I)
ISO_RE = re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{2})(?:-(?P<day>\d{2}))?\b")
DATE_MARKER_RE = re.compile(r"\bdate\s*:?\s*(\d{4}-\d{2}-\d{2})\b", re.I)
PUBLISHED_RE = re.compile(
    r"^\s*(?:published|posted|first published|updated|last updated)(?:\s+on)?\s*:?\s*(.{4,100})$",
    re.I | re.M)
#: what may stand before the date in a dateline: "ALMATY, Kazakhstan, " or "Monday, "
DATELINE_PREFIX_RE = re.compile(r"(?:[^\W\d_][\w .'’-]{0,40},\s*){0,2}")
#: how far into the text an undated ISO date or a dateline is taken for the publication date
TOP_CHARS = 600
TOP_LINES = 5


def find_date(raw: str) -> str | None:
    """Publication date from the text: a 'date' marker, a 'Published:' line, an ISO date or
    a dateline near the top. ISO 'YYYY-MM-DD', or None."""
    marker = DATE_MARKER_RE.search(raw[:2000])
    if marker and (iso := _valid_iso(marker.group(1))):
        return iso
    for m in PUBLISHED_RE.finditer(raw):
        if found := parse_date(m.group(1)):
            return found
    iso = ISO_RE.search(raw[:TOP_CHARS])
    if iso and iso.group("day") and (found := _valid_iso(iso.group(0))):
        return found
    return _dateline_date(raw)


def _dateline_date(raw: str) -> str | None:
    """A date line near the top ('November 9, 2023 3:47 PM', 'By X in Nation on 5 July
    2024', '28.11.2024 | Politics') or a dateline opening the body ('ALMATY, Kazakhstan,
    June 3, 2019 –', 'ASTANA, Nov 9 (Reuters) -', the year then taken from a copyright or
    date line, else unknown)."""
    for line in _top_lines(raw):
        if (found := _meta_date(line)) is not None:
            return found
        for rx in (MDY_RE, DMY_RE):
            m = rx.search(line[:80])
            if m and DATELINE_PREFIX_RE.fullmatch(line[:m.start()]):
                return parse_date(m.group(0))
        m = DATELINE_RE.match(line)
        if m and m.group("date"):
            found = parse_date(m.group("date"))
            if found is None and (year := _year_hint(raw)) is not None:
                found = parse_date(f"{m.group('date').rstrip('.')} {year}")
            if found is not None:
                return found
    return None


def _top_lines(raw: str) -> Iterator[str]:
    """The lines before the body gets going: at most TOP_SCAN non-empty lines, ending after
    the first body paragraph."""
    seen = body = 0
    for line in raw.split("\n"):
        line = SPACES_RE.sub(" ", line).strip()
        if not line:
            continue
        yield line
        seen += 1
        body += _is_body_like(line)
        if seen >= TOP_SCAN or body >= TOP_BODY_LINES:
            return


#: "28.11.2024", "02/02/2023": day first, as agencies outside the US write them
DOTTED_RE = re.compile(r"\b(?P<day>\d{1,2})[./](?P<month>\d{1,2})[./](?P<year>(?:19|20)\d\d)\b")
_TIME_RE = re.compile(r"\b\d{1,2}[:.]\d{2}(?:\s*[ap]\.?m\.?)?|\b(?:gmt|utc|msk|almt|ast)\s*[+-]?\s*\d{0,2}(?::?\d{2})?\b"
                      r"|\b\d+\s*(?:min(?:ute)?s?|hours?|hrs?|days?)\s*(?:read|ago)?\b", re.I)
#: words a date line may hold besides the date, the time, the byline and the section
META_WORDS = frozenset({"by", "in", "on", "at", "and", "updated", "published", "posted",
                        "last", "ago", "read", "first", "modified", "edited"})
MAX_META_NAMES = 5


def _meta_date(line: str) -> str | None:
    """The date of a line that is only a date with its furniture: time, time zone,
    byline, section, reading time ('November 9, 2023 3:47 PM GMT+6 Updated 2 hours ago',
    'By Dana Omirbayeva in Nation on 5 July 2024', 'Aruzhan Sadykova Jan 5, 2024',
    '02.02.2023 | 19:12 | Politics'); else None."""
    if not line or len(line) > 150:
        return None
    found, rest = None, line
    for rx in (MDY_RE, DMY_RE, DOTTED_RE, ISO_RE):
        for m in rx.finditer(line):
            if rx is ISO_RE and not m.group("day"):
                continue
            date = _dotted(m) if rx is DOTTED_RE else parse_date(m.group(0))
            if date is not None:
                if found is None or line.find(m.group(0)) < found[0]:
                    found = (line.find(m.group(0)), date)
                rest = rest.replace(m.group(0), " ")
    if found is None:
        return None
    rest = _TIME_RE.sub(" ", rest)
    if re.search(r"[.!?\"“”«»]\s*\S", rest) or rest.rstrip().endswith((".", "!", "?")) and len(_words(rest)) > 3:
        return None
    words = [w for w in _words(rest) if w.lower() not in META_WORDS]
    if len(words) > MAX_META_NAMES or any(not w[0].isupper() for w in words):
        return None
    return found[1]


def _dotted(m: re.Match) -> str | None:
    day, month, year = int(m.group("day")), int(m.group("month")), int(m.group("year"))
    return _make_date(year, month, day) or _make_date(year, day, month)


#: a dateline opening the body: city, optional region, optional date, optional outlet,
#: then a dash (or a full stop after a date or outlet): "ASTANA, Nov 9 (Reuters) - ",
#: "MOSCOW, May 21 (TASS) — ", "ASTANA, May 21. /TASS/. ", "ASTANA. KAZINFORM – ",
#: "ALMATY, 2 February 2023. ", "ASTANA, November 28 - RIA Novosti. ", "ALMATY, Kazakhstan – "
_DL_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
             r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
DATELINE_RE = re.compile(
    r"(?P<city>(?:[A-Z]{1,3}\.\s?)?[A-Z][A-Z'’\-]{2,}(?:\s[A-Z][A-Z'’\-]{2,}){0,2})"
    r"(?:,\s*(?P<region>[A-Z][a-z]+(?:\s[A-Z][a-z]+){0,2}))?"
    r"(?:[,.]?\s*(?P<date>(?i:" + _DL_MONTH + r")\s+\d{1,2}(?:st|nd|rd|th)?(?:,?\s+(?:19|20)\d\d)?"
    r"|\d{1,2}\s+(?i:" + _DL_MONTH + r")(?:,?\s+(?:19|20)\d\d)?))?"
    r"(?:\s*\((?P<paren>[A-Za-z][\w .&-]{1,30})\)"
    r"|\.?\s*/(?P<slash>[A-Za-z][\w .&-]{1,30})/"
    r"|\.\s*(?P<caps>[A-Z]{3,}(?:[\s-][A-Z]{2,})?)(?=\s*[-–—]))?"
    r"(?:\s+[-–—]\s*(?:(?P<after>[A-Z][\w]+(?:\s[A-Z][\w]+){0,2})\.\s)?|(?<=\S)\s*[-–—]\s|\.\s)\s*"
)
#: how many lines from the top a dateline or date line is looked for in
TOP_SCAN = 20
#: ... and until this many body paragraphs (a standfirst may come before the date line)
TOP_BODY_LINES = 2
DATELINE_LINES = 4


def _dateline(line: str) -> re.Match | None:
    """A dateline at the start of a line that goes on with body text. A bare city needs a
    dash ('ASTANA – ...'); a full stop ends a dateline only after a date or an outlet."""
    m = DATELINE_RE.match(line)
    if m is None or not line[m.end():].strip():
        return None
    sep = line[m.start("city"):m.end()].rstrip()
    ended_by_stop = sep.endswith(".") and not m.group("after")
    if ended_by_stop and not (m.group("date") or m.group("slash") or m.group("caps")):
        return None
    if not (line[m.end():][:1].isupper() or line[m.end():][:1] in "“\"«‘'"):
        return None
    return m


def _strip_dateline(lines: list[str]) -> list[str]:
    """Remove the dateline prefix (city, date, outlet, dash) from the first body line, so
    the agency is never read as a name; the rest of the sentence stays."""
    seen = 0
    for i, line in enumerate(lines):
        if not line:
            continue
        seen += 1
        if seen > DATELINE_LINES:
            break
        m = _dateline(line)
        if m is not None:
            return lines[:i] + [line[m.end():].lstrip()] + lines[i + 1:]
    return lines


def dateline_outlet(raw: str) -> str | None:
    """The agency a dateline names ('(Reuters)', '/TASS/', 'KAZINFORM', '- RIA Novosti.')."""
    for line in _top_lines(raw):
        m = _dateline(line)
        if m is not None:
            name = m.group("paren") or m.group("slash") or m.group("caps") or m.group("after")
            if name:
                name = name.strip()
                return name.title() if name.isupper() and len(name) > 4 else name
            return None
    return None


COPYRIGHT_YEAR_RE = re.compile(r"(?:©|\(c\)|copyright)\s*(?P<year>(?:19|20)\d\d)\b", re.I)


def _year_hint(raw: str) -> int | None:
    """The publication year when only a day and month are given: a copyright line, else a
    date line near the top; else unknown."""
    if m := COPYRIGHT_YEAR_RE.search(raw):
        return int(m.group("year"))
    for line in _top_lines(raw):
        if _dateline(line) is None and (m := re.fullmatch(r"\D{0,40}\b((?:19|20)\d\d)\b\D{0,40}", line)):
            if len(_words(line)) <= MAX_META_NAMES:
                return int(m.group(1))
    return None


def parse_date(text: str) -> str | None:
    """The first absolute date in ``text`` ('December 5, 2022', '5 Dec 2022', '2022-12-05')."""
    for rx in (MDY_RE, DMY_RE):
        if m := rx.search(text):
            month = MONTHS[m.group("month").lower()[:3]]
            return _make_date(int(m.group("year")), month, int(m.group("day")))
    if m := ISO_RE.search(text):
        return _valid_iso(m.group(0))
    return None


def normalize_date(value) -> str | None:
    """A given date (ISO string, date/datetime, or absolute date text) as ISO; else None."""
    if value is None:
        return None
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.strftime("%Y-%m-%d")
    text = str(value).strip()
    if m := re.fullmatch(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?(?:[T ].*)?", text):
        return _valid_iso("-".join(g for g in m.groups() if g))
    return parse_date(text)


def _valid_iso(text: str) -> str | None:
    parts = [int(p) for p in text.split("-")]
    try:
        _dt.date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)
    except (ValueError, IndexError):
        return None
    return text


def _make_date(year: int, month: int, day: int) -> str | None:
    try:
        return _dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def find_title(text: str) -> str | None:
    """The first line of cleaned text when it looks like a headline (short, no full stop)
    and more text follows it."""
    first, _, rest = text.strip().partition("\n")
    first = first.strip()
    words = _words(first)
    if not rest.strip():
        return None
    if not words or len(words) > TITLE_MAX_WORDS or len(first) > 200:
        return None
    if first[-1] in ".,;:" or BULLET_RE.match(first):
        return None
    return first


COPYRIGHT_RE = re.compile(
    r"(?:copyright\s*)?(?:©|\(c\))\s*(?:\d{4}(?:\s*[-–]\s*\d{4})?\s*,?\s*)?"
    r"(?P<name>[^\W\d_][\w&'’ .-]{0,60}?)\s*(?:,?\s*(?:inc|ltd|llc|gmbh|corp|plc|jsc|llp)\b\.?)?"
    r"\s*(?:[.•|,]|all rights reserved|$)", re.I | re.M)
BYLINE_OUTLET_RE = re.compile(r"^\s*by\s+[^/\n]{2,60}/\s*(?P<name>[A-Z][\w&'’ .-]{1,60}?)\s*$", re.I | re.M)


def find_outlet(raw: str) -> str | None:
    """The outlet when the text names it: a copyright holder or a 'By NAME/OUTLET' byline."""
    marked = "\n".join(line for line in raw.split("\n") if "©" in line or "(c)" in line.lower())
    for rx, text in ((COPYRIGHT_RE, marked), (BYLINE_OUTLET_RE, raw)):
        for m in rx.finditer(text):
            name = m.group("name").strip(" .-")
            if name and len(name.split()) <= 6 and not name.lower().startswith("all rights"):
                return name.title() if name.isupper() else name
    return None
