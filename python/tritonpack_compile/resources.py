"""A kernel's resource usage: ptxas's `-v` report, and the register count in the cubin.

Triton always runs ptxas with `-v` and prints the report when
`triton.knobs.nvidia.dump_ptxas_log` is set; the worker captures that text and
`parse_ptxas_log` reads it. `cubin_register_count` reads the same number from the
ELF cubin (the attribute the CUDA driver itself uses), so a change in ptxas's
wording cannot slip a wrong number into meta.json unnoticed.
No Triton import here: this works on text and bytes.
"""

from __future__ import annotations

import re
import struct

RESOURCE_FIELDS = ("registers", "spill_stores", "spill_loads", "stack_frame")

_ENTRY_RE = re.compile(r"^ptxas info\s*: Compiling entry function '(?P<name>[^']+)'", re.MULTILINE)
_USED_REGISTERS_RE = re.compile(r"^ptxas info\s*: Used (\d+) registers", re.MULTILINE)
_FRAME_RE = re.compile(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")


def parse_ptxas_log(log: str, entry: str) -> dict[str, int | None]:
    """registers, spill_stores, spill_loads, stack_frame (bytes) of `entry`; None where the log says nothing.

    ptxas reports one block per entry function, opened by "Compiling entry function
    'NAME'"; inside it, "Function properties for NAME" is followed by the frame line
    (non-inlined device functions get their own properties lines, hence the name).
    """
    result: dict[str, int | None] = dict.fromkeys(RESOURCE_FIELDS)
    starts = list(_ENTRY_RE.finditer(log))
    for i, m in enumerate(starts):
        if m.group("name") != entry:
            continue
        block = log[m.end():starts[i + 1].start() if i + 1 < len(starts) else len(log)]
        used = _USED_REGISTERS_RE.search(block)
        if used:
            result["registers"] = int(used.group(1))
        props = re.search(r"Function properties for " + re.escape(entry) + r"\s*\n\s*" + _FRAME_RE.pattern, block)
        if props:
            result["stack_frame"], result["spill_stores"], result["spill_loads"] = (int(g) for g in props.groups())
    return result


def is_ptxas_report_line(line: str) -> bool:
    """True for the lines of ptxas's `-v` report (not for its warnings or errors)."""
    return line.startswith("ptxas info") or bool(_FRAME_RE.fullmatch(line.strip()))


# --- the cubin -------------------------------------------------------------------
# A cubin is an ELF64 little-endian file. Kernel attributes live in `.nv.info`
# sections as records: u8 format, u8 attribute, then for format 0x04 (EIFMT_SVAL)
# a u16 payload size and the payload; every other format carries its value in the
# next two bytes. EIATTR_REGCOUNT (0x2f) has an SVAL payload of u32 symbol index
# (into the section's linked .symtab) and u32 register count.

EIFMT_SVAL = 0x04
EIATTR_REGCOUNT = 0x2F
_SHT_SYMTAB = 2


class CubinError(Exception):
    """The cubin cannot be read as expected."""


def _sections(elf: bytes) -> list[dict]:
    if elf[:4] != b"\x7fELF" or len(elf) < 64:
        raise CubinError("not an ELF file")
    if elf[4] != 2 or elf[5] != 1:
        raise CubinError("not a 64-bit little-endian ELF file")
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3A)
    if shentsize < 64 or shoff + shnum * shentsize > len(elf) or shstrndx >= shnum:
        raise CubinError("the section header table is out of bounds")
    sections = []
    for i in range(shnum):
        name, type_, _flags, _addr, offset, size, link, _info, _align, entsize = struct.unpack_from(
            "<IIQQQQIIQQ", elf, shoff + i * shentsize)
        if offset + size > len(elf) and type_ != 8:  # SHT_NOBITS (.bss-like) occupies no bytes
            raise CubinError(f"section {i} is out of bounds")
        sections.append({"name_offset": name, "type": type_, "offset": offset, "size": size, "link": link,
                         "entsize": entsize})
    names = sections[shstrndx]
    for s in sections:
        s["name"] = _c_string(elf, names["offset"] + s["name_offset"])
    return sections


def _c_string(data: bytes, start: int) -> str:
    end = data.find(b"\0", start)
    if start >= len(data) or end < 0:
        raise CubinError("a name runs past the end of the file")
    return data[start:end].decode("utf-8", "replace")


def _symbol_name(elf: bytes, sections: list[dict], symtab_index: int, symbol: int) -> str:
    symtab = sections[symtab_index]
    if symtab["type"] != _SHT_SYMTAB or symtab["entsize"] < 24 or symtab["link"] >= len(sections):
        raise CubinError(".nv.info does not link to a symbol table")
    if (symbol + 1) * symtab["entsize"] > symtab["size"]:
        raise CubinError(f"symbol index {symbol} is out of range")
    name_offset, = struct.unpack_from("<I", elf, symtab["offset"] + symbol * symtab["entsize"])
    return _c_string(elf, sections[symtab["link"]]["offset"] + name_offset)


def _attributes(data: bytes):
    """(format, attribute, payload) records of one .nv.info section."""
    pos = 0
    while pos + 4 <= len(data):
        fmt, attribute = data[pos], data[pos + 1]
        if fmt == EIFMT_SVAL:
            size, = struct.unpack_from("<H", data, pos + 2)
            yield fmt, attribute, data[pos + 4:pos + 4 + size]
            pos += 4 + size
        else:
            yield fmt, attribute, data[pos + 2:pos + 4]
            pos += 4


def cubin_register_count(elf: bytes, entry: str) -> int:
    """Registers per thread of `entry`, from EIATTR_REGCOUNT in the cubin's .nv.info. Raises CubinError."""
    try:
        sections = _sections(elf)
        for s in sections:
            if s["name"] != ".nv.info":
                continue
            for fmt, attribute, payload in _attributes(elf[s["offset"]:s["offset"] + s["size"]]):
                if fmt == EIFMT_SVAL and attribute == EIATTR_REGCOUNT and len(payload) >= 8:
                    symbol, count = struct.unpack_from("<II", payload)
                    if _symbol_name(elf, sections, s["link"], symbol) == entry:
                        return count
    except struct.error as e:
        raise CubinError(f"truncated: {e}") from None
    raise CubinError(f"no EIATTR_REGCOUNT for {entry} in .nv.info")
