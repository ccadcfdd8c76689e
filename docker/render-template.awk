# Fills each ${NAME} of a config template from the environment, with the rules of stack/template.ts:
# comment lines are kept as they are, a line with an empty value is left out, an unset name is an error.
/^[ \t]*#/ { print; next }
{
  rest = $0; out = ""; empty = 0
  while (match(rest, /[$][{][A-Za-z_][A-Za-z0-9_]*[}]/)) {
    name = substr(rest, RSTART + 2, RLENGTH - 3)
    if (!(name in ENVIRON)) {
      print FILENAME ": no value for ${" name "}" > "/dev/stderr"
      exit 1
    }
    if (ENVIRON[name] == "") empty = 1
    out = out substr(rest, 1, RSTART - 1) ENVIRON[name]
    rest = substr(rest, RSTART + RLENGTH)
  }
  if (!empty) print out rest
}
