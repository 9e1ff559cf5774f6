#!/bin/sh
# docs-consistency: the documentation follows the tools (STYLE.md section 9).
# Every long option that a tool's --help prints must appear in its man page
# and in its bash, zsh and fish completions; the man pages must pass
# mandoc -Tlint -Wwarning; the bash completions must parse. Prints TAP.
#
# top_srcdir and top_builddir come from make (absolute paths); when run by
# hand they default to this script's ../.. and to its build/ directory.

if [ -z "${top_srcdir:-}" ]; then
	top_srcdir=$(cd "$(dirname "$0")/../.." && pwd) || exit 99
fi
top_builddir=${top_builddir:-$top_srcdir/build}

tools="mqpub mqsub ssecat ssepush mq2sse"
manpages="man/mqpub.1 man/mqsub.1 man/ssecat.1 man/ssepush.1 man/mq2sse.1
    man/mqsse.7"

# Four files per tool, one mandoc test per page, one bash -n per tool.
ntools=0
for t in $tools; do
	ntools=$((ntools + 1))
done
npages=0
for p in $manpages; do
	npages=$((npages + 1))
done
echo "1..$((ntools * 4 + npages + ntools))"

n=0
failed=0

ok()
{
	n=$((n + 1))
	echo "ok $n - $1"
}

not_ok()
{
	n=$((n + 1))
	echo "not ok $n - $1"
	failed=1
}

# Print each line of standard input as a TAP diagnostic.
diag()
{
	sed 's/^/# /'
}

# The long options in TOOL --help, one a line, without the leading "--".
# (tr splits the text into words; POSIX grep has no -o.)
help_options()
{
	"$top_builddir/cmd/$1" --help 2>/dev/null |
	    tr -cs 'A-Za-z0-9-' '[\n*]' |
	    sed -n 's/^--\([A-Za-z0-9][A-Za-z0-9-]*\)$/\1/p' |
	    sort -u
}

# Does FILE mention option NAME in the form its KIND of file writes it?
#   man:  mdoc "Fl \-name" or "Fl -name" on an .It line (the OPTIONS list)
#   fish: "-l name" (or "--name")
#   else: "--name"
# A name must not run on into a longer one (--repeat vs --repeat-delay).
mentions()
{
	# POSIX sh has no local variables: these names are used nowhere else.
	m_kind=$1 m_name=$2 m_file=$3
	m_end='([^A-Za-z0-9-]|$)'
	case $m_kind in
	man)
		sed -n 's/\\-/-/g; /^\.It /p' "$m_file" |
		    grep -Eq -e "Fl -$m_name$m_end"
		;;
	fish)
		grep -Eq -e "(-l $m_name|--$m_name)$m_end" "$m_file"
		;;
	*)
		grep -Eq -e "(^|[^A-Za-z0-9-])--$m_name$m_end" "$m_file"
		;;
	esac
}

for t in $tools; do
	opts=$(help_options "$t")
	for what in man bash zsh fish; do
		case $what in
		man) file=man/$t.1 ;;
		bash) file=completions/bash/$t ;;
		zsh) file=completions/zsh/_$t ;;
		fish) file=completions/fish/$t.fish ;;
		esac
		desc="$t: $file has every long option of --help"
		if [ -z "$opts" ]; then
			not_ok "$desc"
			echo "# cannot read the options of" \
			    "$top_builddir/cmd/$t --help"
			continue
		fi
		if [ ! -f "$top_srcdir/$file" ]; then
			not_ok "$desc"
			echo "# $top_srcdir/$file: no such file"
			continue
		fi
		missing=
		for o in $opts; do
			if ! mentions "$what" "$o" "$top_srcdir/$file"; then
				missing="$missing --$o"
			fi
		done
		if [ -z "$missing" ]; then
			ok "$desc"
		else
			not_ok "$desc"
			echo "# missing:$missing"
		fi
	done
done

for p in $manpages; do
	desc="mandoc -Tlint -Wwarning $p prints nothing"
	if ! command -v mandoc >/dev/null 2>&1; then
		not_ok "$desc"
		echo "# mandoc not found"
		continue
	fi
	if out=$(mandoc -Tlint -Wwarning "$top_srcdir/$p" 2>&1) &&
	    [ -z "$out" ]; then
		ok "$desc"
	else
		not_ok "$desc"
		printf '%s\n' "$out" | diag
	fi
done

for t in $tools; do
	desc="bash -n completions/bash/$t"
	if ! command -v bash >/dev/null 2>&1; then
		not_ok "$desc"
		echo "# bash not found"
		continue
	fi
	if out=$(bash -n "$top_srcdir/completions/bash/$t" 2>&1); then
		ok "$desc"
	else
		not_ok "$desc"
		printf '%s\n' "$out" | diag
	fi
done

exit "$failed"
