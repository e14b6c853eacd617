#!/usr/bin/env python3
"""Writes the man pages logward(8) and logward.yml(5) into OUTDIR.

One source each, so they cannot drift: logward(8) is the binary's own
`logward --help` and `logward COMMAND --help` (the text a user sees at the
terminal, verbatim), logward.yml(5) is the README's "Configuration"
section (its example and its table of keys).

usage: gen-man.py LOGWARD_BINARY README.md OUTDIR"""
import os
import re
import subprocess
import sys


def esc(text):
    """Text for roff: backslashes shown, no line taken for a request."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join(("\\&" + l) if l.startswith((".", "'")) else l for l in text.split("\n"))


def inline(md):
    """Markdown inline code as bold, the rest escaped."""
    parts = re.split(r"`([^`]*)`", md)
    return "".join(esc(p) if i % 2 == 0 else "\\fB" + esc(p) + "\\fR" for i, p in enumerate(parts))


def run_help(binary, *args):
    r = subprocess.run([binary, *args, "--help"], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"gen-man: {' '.join(args) or 'logward'} --help exited {r.returncode}")
    return r.stdout.rstrip("\n")


def readme_section(readme, title):
    m = re.search(r"^## " + re.escape(title) + r"\n(.*?)(?=^## )", readme, re.S | re.M)
    if not m:
        sys.exit(f"gen-man: README.md has no '## {title}' section")
    return m.group(1)


def page_logward(binary, readme):
    top = run_help(binary)
    cmds = re.findall(r"^  (\S+)\s+(.+)$", top, re.M)
    intro = readme.split("\n\n")[1].replace("\n", " ")
    out = [".TH LOGWARD 8 \"\" \"logward\" \"System Administration\"",
           ".SH NAME", "logward \\- security event log collector and correlator",
           ".SH SYNOPSIS", ".B logward", ".I COMMAND", "[\\fIOPTIONS\\fR]",
           ".SH DESCRIPTION", inline(intro),
           ".PP", "Commands:", ".TS", "l l.",
           *[f"\\fB{esc(c)}\\fR\t{esc(h)}" for c, h in cmds], ".TE",
           ".SH COMMANDS",
           "Each command's options, as \\fBlogward\\fR \\fICOMMAND\\fR \\fB\\-\\-help\\fR prints them."]
    for c, _ in cmds:
        out += [f".SS {esc(c)}", ".nf", esc(run_help(binary, c)), ".fi"]
    out += [".SH FILES", ".TP", "/etc/logward/logward.yml",
            "the configuration (logward.yml(5)); \\fBlogward serve \\-c\\fR names it",
            ".TP", "/var/lib/logward", "the store (LMDB environment) of the packaged service",
            ".TP", "/usr/share/logward/rules", "the default rule pack",
            ".SH SEE ALSO", "logward.yml(5), systemd.service(5), logger(1)"]
    return "\n".join(out) + "\n"


def page_config(readme):
    sec = readme_section(readme, "Configuration")
    paras = sec.strip().split("\n\n")
    example = re.search(r"```yaml\n(.*?)```", sec, re.S).group(1).rstrip("\n")
    rows = [l for l in sec.split("\n") if l.startswith("| ")]
    out = [".TH LOGWARD.YML 5 \"\" \"logward\" \"File Formats\"",
           ".SH NAME", "logward.yml \\- configuration of the logward collector",
           ".SH DESCRIPTION", inline(paras[0].replace("\n", " ")),
           ".SH EXAMPLE", ".nf", esc(example), ".fi", ".SH KEYS", ".na", ".nh", ".TS", "allbox;", "lb lb lb", "l l lx."]
    for row in rows:  # the rule under the header starts "|---", not "| "
        cells = [c.strip() for c in row.strip().strip("|").split(" | ")]
        if len(cells) != 3:
            sys.exit(f"gen-man: README table row has {len(cells)} cells: {row}")
        out.append("\t".join("T{\n" + inline(c) + "\nT}" for c in cells))
    out += [".TE", ".SH SEE ALSO", "logward(8)"]
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__.split("\n\n")[-1])
    binary, readme_path, outdir = sys.argv[1:]
    with open(readme_path, encoding="utf-8") as f:
        readme = f.read()
    os.makedirs(outdir, exist_ok=True)
    for name, text in (("logward.8", page_logward(binary, readme)),
                       ("logward.yml.5", page_config(readme))):
        with open(os.path.join(outdir, name), "w", encoding="utf-8") as f:
            f.write(text)


if __name__ == "__main__":
    main()
