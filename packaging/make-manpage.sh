#!/usr/bin/env bash
# Writes the emolens-cli(1) man page from the program's own --help texts, so the page and
# the program never disagree. Usage: make-manpage.sh PATH_TO_EMOLENS_CLI VERSION OUT.1
set -euo pipefail
cli=$1 version=$2 out=$3

# roff-escape: backslashes, and lines starting with . or '
esc() { sed -e 's/\\/\\e/g' -e "s/^\([.']\)/\\\\\&\1/"; }

{
  echo ".TH EMOLENS-CLI 1 \"\" \"emolens-cli $version\" \"User Commands\""
  echo ".SH NAME"
  echo "emolens-cli \\- speech emotion corpus import, export and inspection"
  echo ".SH SYNOPSIS"
  echo ".B emolens-cli"
  echo ".I command"
  echo "[\\fIoptions\\fR]"
  echo ".SH DESCRIPTION"
  echo ".nf"
  "$cli" --help | esc
  echo ".fi"
  echo ".SH COMMANDS"
  for command in $("$cli" --help | awk '/^Commands:/{on=1;next} on && NF==0{exit} on{print $1}'); do
    echo ".SS $command"
    echo ".nf"
    "$cli" "$command" --help | esc
    echo ".fi"
  done
  echo ".SH EXIT STATUS"
  echo "0 on success (also when some files were skipped and reported), 1 when the input is"
  echo "unusable (the message names the file and the problem), 2 on wrong usage."
  echo ".SH SEE ALSO"
  echo ".BR emolens (1)"
} > "$out"
