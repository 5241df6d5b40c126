#!/bin/bash
#
# tests/integration/shared-group.sh - the shared-hosting README's advice
# for a store shared through a group ("The state directory and the
# user"): the account's user runs the cron job, Apache runs sherve.cgi
# as another user, and the two share only a group.
#
# The account is laid out by the README's steps; the state dir belongs
# to the account's user (nobody, whose own group is not the CGI's) and
# the README's group block, run as that user, gives it to a group of
# its own (a gid no entry in /etc/group has, so nothing is created)
# with the setgid bit. The README's cron line (umask 007; then the
# command of contrib/cron/sherve.crontab), run as that user under cron's
# usual umask 022, loads the map; then the real Apache with mod_cgi,
# User www-data and Group #GID, must serve an alias 301 and an asset 200
# from that store, the CGI must write to it (a miss refresh), and the
# cron job refreshing to a new map must be seen by the CGI. The negative
# case: the crontab's line without the umask writes the store 0644, and
# the CGI then answers short links with a clear error, logged, never a
# silent 404; made group-writable again, it serves again.
#
# Needs root (setpriv, Apache's User/Group), apache2 (mod_cgi,
# mod_rewrite, mpm_prefork), curl and python3; skips (77) without them.
# Environment (set by `make check`): SHERVE_BIN, TOP_SRCDIR, TOP_BUILDDIR.

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/servers.sh
. "$(dirname "$0")/servers.sh"

[ "$(id -u)" -eq 0 ] ||
	skip_all "needs root: runs the cron job and Apache's CGI as two users"
need_cmd curl python3 setpriv getent stat
APACHE=$(apache_path) ||
	skip_all "apache2 is not installed (apt-get install apache2)"
need_apache_modules cgi rewrite mpm_prefork authz_core authz_host mime \
	log_config dir alias headers
[ -x "$SHERVE_BIN" ] || hard_error "$SHERVE_BIN: not built"
SH=$TOP_SRCDIR/contrib/shared-hosting
CRONTAB=$TOP_SRCDIR/contrib/cron/sherve.crontab

# The two users: the account's (cron) and the CGI's (Apache's User).
CHILD_USER=www-data
CGI_UID=$(id -u "$CHILD_USER" 2>/dev/null) ||
	skip_all "no user $CHILD_USER for the CGI"
U_UID=$(id -u nobody 2>/dev/null) || skip_all "no user nobody"
U_GID=$(id -g nobody)
# The shared group: a gid no group entry has and neither user is in.
SHGID=
for g in $(seq 20000 20999); do
	if ! getent group "$g" >/dev/null &&
		! id -G "$CHILD_USER" | tr ' ' '\n' | grep -qx "$g" &&
		! id -G nobody | tr ' ' '\n' | grep -qx "$g"; then
		SHGID=$g
		break
	fi
done
[ -n "$SHGID" ] || hard_error "no free gid in 20000-20999"
case " $(id -G "$CHILD_USER") " in
*" $U_GID "*) skip_all "$CHILD_USER is in nobody's group $U_GID" ;;
esac
note "account user $U_UID:$U_GID, CGI user $CGI_UID, shared gid $SHGID"

open_tmp_to_children
make_site
start_upstream

HOME_DIR=$T_TMP/home/user
DOCROOT=$HOME_DIR/public_html
GO=$DOCROOT/go
STATE=$HOME_DIR/sherve/state

# shellcheck disable=SC2317 # called through check_exit
# as_user CMD...: CMD as the account's user, in the shared group, with
# cron's usual umask (022) and the account's HOME.
as_user() {
	(umask 022 && setpriv --reuid="$U_UID" --regid="$U_GID" \
		--groups="$SHGID" -- env -u SHERVE_CONFIG HOME="$HOME_DIR" "$@")
}

# state_modes: "MODE GID" of each file in the state dir, one a line.
state_modes() {
	stat -c '%a %g' "$STATE"/* | sort -u
}

# --------------------------------------------------------------- the account

mkdir -p "$HOME_DIR"
HOME=$HOME_DIR readme_run "$SH/README.md" steps SHERVE="$SHERVE_BIN" \
	WEBROOT="$W" REDIRECTS_URL="$UP/redirects.txt"
expect_eq "the README's steps lay out the account" "$?" 0
expect_file_contains "... with sherve.conf beside sherve.cgi, naming the store" \
	"$GO/sherve.conf" "state-dir = $STATE"
chown -R "$U_UID:$U_GID" "$HOME_DIR"
chmod 0755 "$T_TMP/home"

# The README's group block, run as the account's user.
block=$(readme_block "$SH/README.md" group | grep -v '^GROUP=')
check_exit "the README's group block runs as the user" 0 \
	as_user env GROUP="$SHGID" bash -e -c "$block"
expect_eq "... the state dir is 2770 in the shared group" \
	"$(stat -c '%a %g %u' "$STATE")" "2770 $SHGID $U_UID"

# The README's cron line is the crontab's, with umask 007 in front of
# its command; both run with this account's home, as cron runs them.
cron_line=$(grep -E '^[^#[:space:]]' "$CRONTAB" | head -n 1)
group_line=$(readme_block "$SH/README.md" cron-group)
expect_eq "the README's group cron line is the crontab's with umask 007" \
	"$group_line" "$(printf '%s' "$cron_line" | cut -d' ' -f1-5) umask 007; $(
		printf '%s' "$cron_line" | cut -d' ' -f6-)"
group_cmd=$(printf '%s\n' "$group_line" | cut -d' ' -f6-)
group_cmd=${group_cmd//\/home\/USER\/public_html/$DOCROOT}
plain_cmd=$(printf '%s\n' "$cron_line" | cut -d' ' -f6-)
plain_cmd=${plain_cmd//\/home\/USER\/public_html/$DOCROOT}
note "cron: $group_cmd"

check_exit "the group cron command loads the map, as the user" 0 \
	as_user sh -c "$group_cmd"
expect_eq "... and prints nothing" "$(cat "$C_OUT" "$C_ERR")" ""
expect_eq "... fetching the map once" "$(upstream_count)" 1
expect_eq "... every file it made is 0660 in the shared group" \
	"$(state_modes)" "660 $SHGID"
expect_eq "... and owned by the user" \
	"$(stat -c '%u' "$STATE"/* | sort -u)" "$U_UID"

# ---------------------------------------------------------------- apache

# cgi_ids: "UID GID GROUPS" of Apache's children (the CGI's user).
cgi_ids() {
	local p
	for p in $(children_of "$A_PID"); do
		awk '/^Uid:/ { u = $2 } /^Gid:/ { g = $2 }
			/^Groups:/ { $1 = ""; s = $0 }
			END { print u, g, s }' "/proc/$p/status"
	done | sort -u
}

# Apache serves the account's public_html as a shared host would; its
# children run as www-data in the shared group only.
start_apache group shared_host "$DOCROOT" \
	'FileInfo AuthConfig Options=ExecCGI,Indexes' "Group #$SHGID" || finish
expect_eq "Apache's children run as $CHILD_USER in the shared group only" \
	"$(cgi_ids)" "$CGI_UID $SHGID  $SHGID"

http "$B/go/foo"
expect_status "the CGI answers an alias from the user's store: 301" 301
expect_header "... to its target" Location https://example.com/foo
http "$B/go/style.css"
expect_status "... and an asset: 200" 200
expect_body_contains "... the asset itself" '#123456'
expect_eq "... without fetching the map itself" "$(upstream_count)" 1

# The cron job refreshes to a new map: the CGI serves it.
printf 'cron2 https://example.com/cron2\n' >>"$REDIRECTS"
check_exit "the cron job refreshes to a new map" 0 as_user sh -c "$group_cmd"
expect_eq "... fetching it" "$(upstream_count)" 2
http "$B/go/cron2"
expect_status "the CGI serves the new alias: 301" 301
expect_header "... to its target" Location https://example.com/cron2
expect_eq "... from the store cron wrote (no fetch of its own)" \
	"$(upstream_count)" 2

# The CGI writes to the store too: an unknown alias is a miss refresh.
printf 'miss https://example.com/miss\n' >>"$REDIRECTS"
http "$B/go/miss"
expect_status "the CGI's own miss refresh stores a new alias: 301" 301
expect_eq "... having fetched the map" "$(upstream_count)" 3
check_exit "the cron job still refreshes after the CGI wrote" 0 \
	as_user sh -c "$group_cmd"
expect_eq "... and prints nothing" "$(cat "$C_OUT" "$C_ERR")" ""
expect_eq "... fetching the map" "$(upstream_count)" 4
# The store's files are the user's, the metrics file the CGI's (made
# under Apache's umask; the cron job does not write it).
expect_eq "... the store's files stay 0660 in the shared group" \
	"$(cd "$STATE" && stat -c '%n %a %g' redirects.mdb redirects.mdb-lock \
		refresh.lock instance.lock | sort | tr '\n' ' ')" \
	"instance.lock 660 $SHGID redirects.mdb 660 $SHGID redirects.mdb-lock 660 $SHGID refresh.lock 660 $SHGID "
expect_file_not_contains "no sherve error or warning in Apache's log" \
	"$RUN/server-error.log" '"level":"'

# ---------------------------------------------------------------- negative

# new_log: start reading Apache's error log afresh (see new_errors).
new_log() {
	ERR_MARK=$(wc -l <"$RUN/server-error.log")
}
new_errors() {
	tail -n +"$((ERR_MARK + 1))" "$RUN/server-error.log" >"$T_TMP/new.log"
}

# negative_checks LABEL: the CGI, unable to open the store, says so:
# short links 503 with the reason in Apache's error log, assets still 200.
negative_checks() {
	new_log
	http "$B/go/foo"
	expect_status "[$1] an alias is 503, not a silent 404" 503
	http "$B/go/style.css"
	expect_status "[$1] assets are still served: 200" 200
	new_errors
	expect_file_contains "[$1] the CGI logs an error naming the store" \
		"$T_TMP/new.log" "\"level\":\"error\",\"msg\":\"state-dir: $STATE/redirects.mdb: Permission denied"
	sed -n 's/.*\("level":"error".*\)/# [\1/p' "$T_TMP/new.log" | head -n 1
}

# The crontab's line as it is, without umask 007, on a fresh store.
rm -rf "${STATE:?}"/*
check_exit "[umask 022] the crontab's line without umask 007 loads the map" \
	0 as_user sh -c "$plain_cmd"
expect_eq "[umask 022] ... but its files are 0644" \
	"$(state_modes)" "644 $SHGID"
negative_checks "umask 022"
# The README's remedy: make them group-writable.
check "[umask 022] chmod g+w on the state dir's files, as the user" \
	as_user chmod g+w "$STATE/redirects.mdb" "$STATE/redirects.mdb-lock" \
	"$STATE/refresh.lock" "$STATE/instance.lock"
http "$B/go/foo"
expect_status "[umask 022] ... and the CGI serves the alias again: 301" 301

# umask 007 without the setgid bit: the files get the user's own group.
rm -rf "${STATE:?}"/*
check "[no setgid] chmod g-s on the state dir, as the user" \
	as_user chmod g-s "$STATE"
check_exit "[no setgid] the README's cron line loads the map" 0 \
	as_user sh -c "$group_cmd"
expect_eq "[no setgid] ... its files are 0660, but in the user's group" \
	"$(state_modes)" "660 $U_GID"
negative_checks "no setgid"

stop_pid "$A_PID"
finish
