/* report/report.c - see report/report.h. Every sentence of the report is
 * in the messages table below, Japanese and English side by side. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/counters.h"
#include "core/sha256.h"
#include "core/time.h"
#include "report/report.h"
#include "store/audit.h"
#include "store/incidents.h"

#define NS_PER_S 1000000000LL
#define TOP_INCIDENTS 10

enum msg {
	M_TITLE, M_SCOPE, M_PERIOD, M_GENERATED, M_DAYS_IN, M_ZONES, M_LISTENERS,
	M_TYPE, M_ADDRESS, M_ZONE, M_ALLOW, M_EVERYONE, M_NETWORKS, M_RULE_PACK,
	M_RULE_DIRS, M_RULE_FILES, M_RULE_HASH, M_RULE_CHANGED, M_NONE, M_RETENTION,
	M_MAX_AGE, M_MAX_BYTES, M_UNBOUNDED, M_KEYED, M_YES, M_NO, M_ITEM, M_VALUE,
	M_COMPLETENESS, M_EVENTS_PERIOD, M_CHART_ZONES, M_TOTAL, M_SOURCES, M_HOST,
	M_EVENTS, M_FIRST, M_LAST, M_GAPS, M_LONGEST_GAP, M_SILENT, M_GAP_LIST,
	M_GAP_FROM, M_GAP_TO, M_LENGTH, M_NO_GAPS, M_SILENT_LIST, M_NO_EVENT_IN_PERIOD,
	M_LOSS, M_LOSS_NOTE, M_COUNTER, M_MEANING, M_SKEW, M_SKEWED, M_NO_SKEW,
	M_UNTRACKED, M_INTEGRITY, M_VERIFY, M_VERIFY_OK, M_VERIFY_BAD, M_VERIFY_ERR,
	M_SEGMENTS, M_CHAIN_HEAD, M_KEY_CHECKED, M_BAD_SEGMENT, M_REASON,
	M_RETENTION_DEL, M_NOTHING_DELETED, M_DELETED_RANGE, M_DELETED_EVENTS,
	M_DELETED_BYTES, M_LAST_DELETION, M_DEL_REASON_AGE, M_DEL_REASON_BYTES,
	M_INCIDENTS, M_INCIDENTS_PERIOD, M_CHART_INCIDENTS, M_CATEGORY, M_LEVEL,
	M_STATUS, M_COUNT, M_TTA, M_TTC, M_MEDIAN, M_P90, M_MEASURED, M_LARGEST,
	M_RULE, M_GROUP, M_OPEN_LONG, M_OPENED, M_AGE, M_FP, M_CLOSED, M_FP_COUNT,
	M_NO_INCIDENTS, M_AUDIT, M_AUDIT_TOTAL, M_AUDIT_SHOWN, M_ACTION, M_TIME,
	M_ACTOR, M_TARGET, M_RESULT, M_DETAIL, M_FINDINGS, M_FINDINGS_NOTE,
	M_RECOMMENDATIONS, M_F_SILENT, M_R_SILENT, M_F_GAPS, M_R_GAPS, M_F_LOSS,
	M_R_LOSS, M_F_VERIFY_BAD, M_R_VERIFY_BAD, M_F_UNKEYED, M_R_UNKEYED,
	M_F_NOKEY, M_R_NOKEY, M_F_OPEN_LONG, M_R_OPEN_LONG, M_F_FP, M_R_FP, M_F_SKEW,
	M_R_SKEW, M_F_NONE, M_R_NONE, M__COUNT
};

/* One table for both languages: [msg][0] Japanese, [msg][1] English. */
static const char *const messages[M__COUNT][2] = {
	[M_TITLE] = {"ログ監査報告書", "Log audit report"},
	[M_SCOPE] = {"1. 対象範囲", "1. Scope"},
	[M_PERIOD] = {"対象期間", "Period"},
	[M_GENERATED] = {"作成日時", "Generated"},
	[M_DAYS_IN] = {"日別集計のタイムゾーン", "Days counted in"},
	[M_ZONES] = {"ゾーン", "Zones"},
	[M_LISTENERS] = {"受信設定", "Listeners"},
	[M_TYPE] = {"種別", "Type"},
	[M_ADDRESS] = {"アドレス", "Address"},
	[M_ZONE] = {"ゾーン", "Zone"},
	[M_ALLOW] = {"許可する送信元", "Allowed senders"},
	[M_EVERYONE] = {"制限なし", "everyone"},
	[M_NETWORKS] = {"ネットワーク", "Networks"},
	[M_RULE_PACK] = {"ルールパック", "Rule pack"},
	[M_RULE_DIRS] = {"ディレクトリ", "Directories"},
	[M_RULE_FILES] = {"ファイル数", "Files"},
	[M_RULE_HASH] = {"SHA-256", "SHA-256"},
	[M_RULE_CHANGED] = {"期間内に変更されたファイル", "Files changed in the period"},
	[M_NONE] = {"なし", "none"},
	[M_RETENTION] = {"保存期間の設定", "Retention settings"},
	[M_MAX_AGE] = {"最大保存期間 (max_age)", "max_age"},
	[M_MAX_BYTES] = {"最大容量 (max_bytes)", "max_bytes"},
	[M_UNBOUNDED] = {"無制限", "no bound"},
	[M_KEYED] = {"鍵付き改ざん検知 (HMAC チェーン)", "Keyed tamper evidence (HMAC chain)"},
	[M_YES] = {"あり", "yes"},
	[M_NO] = {"なし", "no"},
	[M_ITEM] = {"項目", "Item"},
	[M_VALUE] = {"値", "Value"},
	[M_COMPLETENESS] = {"2. ログの完全性", "2. Log completeness"},
	[M_EVENTS_PERIOD] = {"期間内のイベント数", "Events in the period"},
	[M_CHART_ZONES] = {"図1 ゾーン別・日別のイベント数", "Figure 1. Events per zone per day"},
	[M_TOTAL] = {"合計", "Total"},
	[M_SOURCES] = {"送信元ごとの受信状況", "Sources"},
	[M_HOST] = {"ホスト", "Host"},
	[M_EVENTS] = {"イベント数", "Events"},
	[M_FIRST] = {"最初のイベント", "First event"},
	[M_LAST] = {"最後のイベント", "Last event"},
	[M_GAPS] = {"途絶", "Gaps"},
	[M_LONGEST_GAP] = {"最長の途絶", "Longest gap"},
	[M_SILENT] = {"停止", "Silent"},
	[M_GAP_LIST] = {"途絶の一覧", "Gaps"},
	[M_GAP_FROM] = {"途絶前の最後のイベント", "Last event before"},
	[M_GAP_TO] = {"再開後の最初のイベント", "First event after"},
	[M_LENGTH] = {"長さ", "Length"},
	[M_NO_GAPS] = {"途絶はありません。", "No gaps."},
	[M_SILENT_LIST] = {"期間の終わりに停止していた送信元", "Sources silent at the end of the period"},
	[M_NO_EVENT_IN_PERIOD] = {"期間内のイベントなし", "no event in the period"},
	[M_LOSS] = {"欠損・拒否のカウンタ", "Loss and refusal counters"},
	[M_LOSS_NOTE] = {"最後のコミット時点の累計値です (期間別ではありません)。",
			 "Totals as of the last commit (not per period)."},
	[M_COUNTER] = {"カウンタ", "Counter"},
	[M_MEANING] = {"意味", "Meaning"},
	[M_SKEW] = {"時刻のずれ (ホスト別)", "Clock skew by host"},
	[M_SKEWED] = {"時刻がずれていたイベント", "Events with clock skew"},
	[M_NO_SKEW] = {"時刻のずれたイベントはありません。", "No event had clock skew."},
	[M_UNTRACKED] = {"集計対象外の送信元のイベント", "Events of sources not tracked"},
	[M_INTEGRITY] = {"3. 完全性 (改ざん検知)", "3. Integrity"},
	[M_VERIFY] = {"検証 (logward verify) の結果", "Result of logward verify"},
	[M_VERIFY_OK] = {"正常: 改ざん・欠落は検出されませんでした", "ok: no change or removal found"},
	[M_VERIFY_BAD] = {"異常: 改ざんまたは欠落を検出", "FAILED: a change or removal was found"},
	[M_VERIFY_ERR] = {"検証できませんでした", "could not verify"},
	[M_SEGMENTS] = {"検証したセグメント", "Segments verified"},
	[M_CHAIN_HEAD] = {"チェーンの先頭", "Chain head"},
	[M_KEY_CHECKED] = {"監査人の鍵で HMAC を再計算", "HMAC recomputed with the auditor's key"},
	[M_BAD_SEGMENT] = {"最初の異常セグメント", "First broken segment"},
	[M_REASON] = {"理由", "Reason"},
	[M_RETENTION_DEL] = {"保存期間による削除", "Retention deletions"},
	[M_NOTHING_DELETED] = {"削除はありません。", "Nothing was deleted."},
	[M_DELETED_RANGE] = {"削除されたセグメント", "Segments deleted"},
	[M_DELETED_EVENTS] = {"削除されたイベント", "Events deleted"},
	[M_DELETED_BYTES] = {"削除されたバイト数", "Bytes deleted"},
	[M_LAST_DELETION] = {"最後の削除", "Last deletion"},
	[M_DEL_REASON_AGE] = {"max_age (保存期間超過)", "max_age"},
	[M_DEL_REASON_BYTES] = {"max_bytes (容量超過)", "max_bytes"},
	[M_INCIDENTS] = {"4. インシデント", "4. Incidents"},
	[M_INCIDENTS_PERIOD] = {"期間内のインシデント", "Incidents in the period"},
	[M_CHART_INCIDENTS] = {"図2 分類別・重要度別のインシデント数",
			       "Figure 2. Incidents per category and level"},
	[M_CATEGORY] = {"分類", "Category"},
	[M_LEVEL] = {"重要度", "Level"},
	[M_STATUS] = {"状態", "Status"},
	[M_COUNT] = {"件数", "Count"},
	[M_TTA] = {"受付までの時間", "Time to acknowledge"},
	[M_TTC] = {"完了までの時間", "Time to close"},
	[M_MEDIAN] = {"中央値", "Median"},
	[M_P90] = {"90パーセンタイル", "90th percentile"},
	[M_MEASURED] = {"対象件数", "Incidents measured"},
	[M_LARGEST] = {"規模の大きい上位10件", "The ten largest"},
	[M_RULE] = {"ルール", "Rule"},
	[M_GROUP] = {"グループ", "Group"},
	[M_OPEN_LONG] = {"長期間未完了のインシデント", "Incidents still open after"},
	[M_OPENED] = {"発生", "Opened"},
	[M_AGE] = {"経過", "Age"},
	[M_FP] = {"誤検知による完了 (ルール別)", "False-positive closures per rule"},
	[M_CLOSED] = {"完了", "Closed"},
	[M_FP_COUNT] = {"誤検知", "False positives"},
	[M_NO_INCIDENTS] = {"該当なし。", "None."},
	[M_AUDIT] = {"5. 操作記録", "5. Operator actions"},
	[M_AUDIT_TOTAL] = {"期間内の操作記録", "Audit records in the period"},
	[M_AUDIT_SHOWN] = {"表示した件数 (新しい順)", "Shown (newest first)"},
	[M_ACTION] = {"操作", "Action"},
	[M_TIME] = {"日時", "Time"},
	[M_ACTOR] = {"操作者", "Actor"},
	[M_TARGET] = {"対象", "Target"},
	[M_RESULT] = {"結果", "Result"},
	[M_DETAIL] = {"詳細", "Detail"},
	[M_FINDINGS] = {"6. 検出事項", "6. Findings"},
	[M_FINDINGS_NOTE] = {"以下は上記の数値から自動生成した原案です。監査人が確認・加筆してください。",
			     "Drafted from the numbers above; the auditor reviews and edits them."},
	[M_RECOMMENDATIONS] = {"7. 改善提言", "7. Recommendations"},
	[M_F_SILENT] = {"期間の終わりに停止していた送信元", "Sources silent at the end of the period"},
	[M_R_SILENT] = {"停止した送信元の稼働状況とログ転送設定を確認すること。",
			"Check that the silent sources run and still forward their logs."},
	[M_F_GAPS] = {"期間内にログの途絶があった送信元", "Sources with gaps in the period"},
	[M_R_GAPS] = {"途絶の時間帯に送信元または経路で障害がなかったか確認すること。",
		      "Check the senders and the network for the times of the gaps."},
	[M_F_LOSS] = {"欠損・拒否が記録されている", "Loss or refusals were counted"},
	[M_R_LOSS] = {"欠損の原因 (受信バッファ、流量制限、許可リスト) を調査し、設定を見直すこと。",
		      "Find the cause of the losses (receive buffers, rate limits, allow lists) and adjust the settings."},
	[M_F_VERIFY_BAD] = {"改ざん検知の検証で異常を検出した", "Chain verification failed"},
	[M_R_VERIFY_BAD] = {"異常のセグメントを特定し、情報セキュリティ責任者に報告すること。",
			    "Report the broken segment to the security officer and investigate it."},
	[M_F_UNKEYED] = {"鍵付き改ざん検知が有効になっていない", "The store is not keyed"},
	[M_R_UNKEYED] = {"logward init-key で鍵付きのチェーンに移行し、初期鍵を監査人がオフラインで保管すること。",
			 "Move to a keyed chain (logward init-key); the auditor keeps the initial key offline."},
	[M_F_NOKEY] = {"監査人の鍵による HMAC の再計算を行っていない",
		       "The HMAC chain was not recomputed with the auditor's key"},
	[M_R_NOKEY] = {"次回の監査では監査人の鍵 (--key) を指定して検証すること。",
		       "Verify with the auditor's key (--key) at the next audit."},
	[M_F_OPEN_LONG] = {"長期間未完了のインシデントがある", "Incidents stayed open too long"},
	[M_R_OPEN_LONG] = {"未完了のインシデントの担当者と対応期限を決めること。",
			   "Assign the open incidents and set deadlines for them."},
	[M_F_FP] = {"誤検知による完了が多いルール", "Rules with many false-positive closures"},
	[M_R_FP] = {"該当ルールの条件を見直し、logward rules replay --diff で変更の影響を確認してから適用すること。",
		    "Tune these rules and check the change with logward rules replay --diff before applying it."},
	[M_F_SKEW] = {"時刻がずれている送信元", "Sources with clock skew"},
	[M_R_SKEW] = {"該当ホストの時刻同期 (NTP) 設定を確認すること。",
		      "Check time synchronisation (NTP) on these hosts."},
	[M_F_NONE] = {"特記すべき検出事項はありません。", "No findings."},
	[M_R_NONE] = {"特になし。", "None."},
};

struct ctx {
	const struct lw_facts *f;
	const struct lw_report_opts *o;
	struct lw_doc *d;
	int lang;
	int findings;             /* findings listed so far */
	struct lw_buf recs;       /* recommendations, NUL-separated */
	int oom;
};

static const char *T(const struct ctx *c, enum msg m)
{
	return messages[m][c->lang];
}

/* Formats into a static-lifetime-free scratch buffer the caller owns. */
static const char *u64s(char *buf, uint64_t v)
{
	snprintf(buf, 32, "%" PRIu64, v);
	return buf;
}

static void time_text(int64_t ns, char *buf, size_t n)
{
	struct lw_buf b;

	lw_buf_init(&b);
	lw_time_format_rfc3339(ns, &b);
	snprintf(buf, n, "%.*s", b.oom ? 0 : (int)b.len, b.oom ? "" : b.data);
	lw_buf_release(&b);
}

/* "3d 4h", "5h 12m", "7m 3s", "12s". */
static void duration_text(int64_t ns, char *buf, size_t n)
{
	int64_t s = ns / NS_PER_S;

	if (s >= 86400)
		snprintf(buf, n, "%" PRId64 "d %" PRId64 "h", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(buf, n, "%" PRId64 "h %" PRId64 "m", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(buf, n, "%" PRId64 "m %" PRId64 "s", s / 60, s % 60);
	else
		snprintf(buf, n, "%" PRId64 "s", s);
}

static void kv_row(struct ctx *c, const char *k, const char *v)
{
	const char *cells[2] = {k, v};

	lw_doc_row(c->d, cells);
}

static void kv_table(struct ctx *c)
{
	const char *h[2] = {T(c, M_ITEM), T(c, M_VALUE)};

	lw_doc_table(c->d, 2, h);
}

/* A finding and the recommendation that goes with it. */
static void finding(struct ctx *c, const char *text, enum msg rec)
{
	if (c->findings++ == 0) {
		lw_doc_heading(c->d, 1, T(c, M_FINDINGS));
		lw_doc_para(c->d, T(c, M_FINDINGS_NOTE));
	}
	lw_doc_item(c->d, text);
	lw_buf_puts(&c->recs, T(c, rec));
	lw_buf_putc(&c->recs, '\0');
}

/* --- rule pack ------------------------------------------------------- */

struct pack_walk {
	char **paths;
	size_t n, cap;
	int oom;
};

static void walk_dir(struct pack_walk *w, const char *root, const char *rel, int depth)
{
	char full[PATH_MAX * 2];
	DIR *dir;
	struct dirent *e;

	snprintf(full, sizeof(full), "%s/%s", root, rel);
	if (depth > 16 || (dir = opendir(full)) == NULL)
		return;
	while ((e = readdir(dir)) != NULL) {
		char sub[PATH_MAX * 2];
		struct stat sb;

		if (e->d_name[0] == '.')
			continue;
		/* a path too long to open is not part of any pack */
		if ((size_t)snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "",
				     e->d_name) >= sizeof(sub) ||
		    (size_t)snprintf(full, sizeof(full), "%s/%s", root, sub) >= sizeof(full) ||
		    stat(full, &sb) != 0)
			continue;
		if (S_ISDIR(sb.st_mode)) {
			walk_dir(w, root, sub, depth + 1);
		} else if (S_ISREG(sb.st_mode)) {
			if (w->n == w->cap) {
				size_t cap = w->cap ? w->cap * 2 : 256;
				char **p = realloc(w->paths, cap * sizeof(*p));

				if (p == NULL) {
					w->oom = 1;
					break;
				}
				w->paths = p;
				w->cap = cap;
			}
			if ((w->paths[w->n] = strdup(sub)) == NULL)
				w->oom = 1;
			else
				w->n++;
		}
	}
	closedir(dir);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int hash_file(struct lw_sha256 *h, const char *path, const char *rel,
		     int64_t from_ns, int64_t to_ns, const char *dir, struct lw_buf *changed)
{
	char buf[65536];
	struct stat sb;
	uint8_t len[8];
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &sb) != 0) {
		if (fd >= 0)
			close(fd);
		return LW_EIO;
	}
	for (int i = 0; i < 8; i++)
		len[i] = (uint8_t)((uint64_t)sb.st_size >> (8 * i));
	lw_sha256_update(h, rel, strlen(rel) + 1);
	lw_sha256_update(h, len, sizeof(len));
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		lw_sha256_update(h, buf, (size_t)r);
	close(fd);
	if (r < 0)
		return LW_EIO;
	if (changed != NULL) {
		int64_t m = (int64_t)sb.st_mtim.tv_sec * NS_PER_S + sb.st_mtim.tv_nsec;

		if (m >= from_ns && m < to_ns)
			lw_buf_printf(changed, "%s%s/%s", changed->len ? ", " : "", dir, rel);
	}
	return LW_OK;
}

int lw_report_pack_hash(const char (*dirs)[PATH_MAX], size_t ndirs, int64_t from_ns,
			int64_t to_ns, char *hex, size_t *nfiles, struct lw_buf *changed)
{
	struct lw_sha256 h;
	uint8_t digest[LW_SHA256_LEN];
	int rc = lw_sha256_init(&h);

	*nfiles = 0;
	for (size_t d = 0; d < ndirs && rc == LW_OK; d++) {
		struct pack_walk w = {0};

		walk_dir(&w, dirs[d], "", 0);
		if (w.oom)
			rc = LW_ENOMEM;
		qsort(w.paths, w.n, sizeof(*w.paths), cmp_str);
		for (size_t i = 0; i < w.n; i++) {
			char full[PATH_MAX * 2];

			snprintf(full, sizeof(full), "%s/%s", dirs[d], w.paths[i]);
			if (rc == LW_OK)
				rc = hash_file(&h, full, w.paths[i], from_ns, to_ns, dirs[d], changed);
			free(w.paths[i]);
		}
		*nfiles += w.n;
		free(w.paths);
	}
	if (rc == LW_OK)
		rc = lw_sha256_final(&h, digest);
	lw_sha256_release(&h);
	if (rc == LW_OK)
		lw_sha256_hex(digest, hex);
	return rc;
}

/* --- sections -------------------------------------------------------- */

static void cidrs_text(const struct lw_cidr_list *l, struct lw_buf *out)
{
	for (size_t i = 0; i < l->count; i++) {
		char a[INET6_ADDRSTRLEN];

		inet_ntop(l->items[i].family, l->items[i].addr, a, sizeof(a));
		lw_buf_printf(out, "%s%s/%u", i ? ", " : "", a, (unsigned)l->items[i].prefix);
	}
}

static void scope_config(struct ctx *c, const struct lw_config *cfg)
{
	const char *hl[4] = {T(c, M_TYPE), T(c, M_ADDRESS), T(c, M_ZONE), T(c, M_ALLOW)};
	const char *hz[2] = {T(c, M_ZONE), T(c, M_NETWORKS)};
	struct lw_buf b, changed;
	char hex[LW_SHA256_HEX_LEN + 1] = "", n1[32];
	size_t nfiles = 0;

	lw_buf_init(&b);
	lw_buf_init(&changed);
	lw_doc_heading(c->d, 2, T(c, M_LISTENERS));
	lw_doc_table(c->d, 4, hl);
	for (size_t i = 0; i < cfg->nlisteners; i++) {
		const struct lw_listener_config *l = &cfg->listeners[i];
		const char *cells[4];

		lw_buf_reset(&b);
		if (l->allow.count == 0)
			lw_buf_puts(&b, T(c, M_EVERYONE));
		else
			cidrs_text(&l->allow, &b);
		lw_buf_putc(&b, '\0');
		cells[0] = lw_config_listener_type_name(l->type);
		cells[1] = l->type == LW_LISTENER_UNIX ? l->path : l->address;
		cells[2] = l->zone;
		cells[3] = b.oom ? "" : b.data;
		lw_doc_row(c->d, cells);
	}
	if (cfg->nzones > 0) {
		lw_doc_heading(c->d, 2, T(c, M_ZONES));
		lw_doc_table(c->d, 2, hz);
		for (size_t i = 0; i < cfg->nzones; i++) {
			const char *cells[2];

			lw_buf_reset(&b);
			cidrs_text(&cfg->zones[i].cidrs, &b);
			lw_buf_putc(&b, '\0');
			cells[0] = cfg->zones[i].name;
			cells[1] = b.oom ? "" : b.data;
			lw_doc_row(c->d, cells);
		}
	}
	lw_doc_heading(c->d, 2, T(c, M_RULE_PACK));
	if (lw_report_pack_hash(cfg->rule_dirs, cfg->nrule_dirs, c->f->opts.from_ns,
				c->f->opts.to_ns, hex, &nfiles, &changed) != LW_OK)
		snprintf(hex, sizeof(hex), "-");
	lw_buf_putc(&changed, '\0');
	kv_table(c);
	lw_buf_reset(&b);
	for (size_t i = 0; i < cfg->nrule_dirs; i++)
		lw_buf_printf(&b, "%s%s", i ? ", " : "", cfg->rule_dirs[i]);
	lw_buf_putc(&b, '\0');
	kv_row(c, T(c, M_RULE_DIRS), b.oom ? "" : b.data);
	kv_row(c, T(c, M_RULE_FILES), u64s(n1, nfiles));
	kv_row(c, T(c, M_RULE_HASH), hex);
	kv_row(c, T(c, M_RULE_CHANGED),
	       changed.oom || changed.data[0] == '\0' ? T(c, M_NONE) : changed.data);
	lw_doc_heading(c->d, 2, T(c, M_RETENTION));
	kv_table(c);
	lw_buf_reset(&b);
	if (cfg->storage.max_age_s)
		duration_text((int64_t)cfg->storage.max_age_s * NS_PER_S, n1, sizeof(n1));
	kv_row(c, T(c, M_MAX_AGE), cfg->storage.max_age_s ? n1 : T(c, M_UNBOUNDED));
	kv_row(c, T(c, M_MAX_BYTES),
	       cfg->storage.max_bytes ? u64s(n1, cfg->storage.max_bytes) : T(c, M_UNBOUNDED));
	kv_row(c, T(c, M_KEYED), c->f->head.keyed_from ? T(c, M_YES) : T(c, M_NO));
	if (b.oom || changed.oom)
		c->oom = 1;
	lw_buf_release(&b);
	lw_buf_release(&changed);
}

static void scope(struct ctx *c)
{
	const struct lw_facts *f = c->f;
	char a[64], b[64], line[160], gen[64];

	lw_doc_heading(c->d, 1, T(c, M_SCOPE));
	time_text(f->opts.from_ns, a, sizeof(a));
	time_text(f->opts.to_ns, b, sizeof(b));
	snprintf(line, sizeof(line), "%s - %s", a, b);
	time_text(c->o->generated_ns, gen, sizeof(gen));
	kv_table(c);
	kv_row(c, T(c, M_PERIOD), line);
	kv_row(c, T(c, M_GENERATED), gen);
	kv_row(c, T(c, M_DAYS_IN), c->o->tz_name != NULL ? c->o->tz_name : "UTC");
	if (c->o->cfg != NULL)
		scope_config(c, c->o->cfg);
}

static void zones_chart(struct ctx *c)
{
	const struct lw_facts *f = c->f;
	const char *hz[2] = {T(c, M_ZONE), T(c, M_EVENTS)};
	const char **labels = calloc(f->ndays, sizeof(*labels));
	char (*days)[16] = calloc(f->ndays, sizeof(*days));
	const char *series[LW_FACTS_MAX_ZONES];
	char n[32];

	if (labels == NULL || days == NULL) {
		c->oom = 1;
		goto out;
	}
	for (uint32_t i = 0; i < f->ndays; i++) {
		int64_t y;
		unsigned m, dd;

		lw_time_civil_from_days(f->first_day + i, &y, &m, &dd);
		snprintf(days[i], sizeof(days[i]), "%04d-%02u-%02u", (int)y, m, dd);
		labels[i] = days[i];
	}
	for (size_t z = 0; z < f->nzones; z++)
		series[z] = f->zones[z][0] ? f->zones[z] : "-";
	lw_doc_chart(c->d, T(c, M_CHART_ZONES), f->ndays, labels, (uint32_t)f->nzones,
		     series, f->zone_days);
	lw_doc_table(c->d, 2, hz);
	for (size_t z = 0; z < f->nzones; z++) {
		uint64_t sum = 0;
		const char *cells[2];

		for (uint32_t i = 0; i < f->ndays; i++)
			sum += f->zone_days[z * f->ndays + i];
		cells[0] = series[z];
		cells[1] = u64s(n, sum);
		lw_doc_row(c->d, cells);
	}
	kv_row(c, T(c, M_TOTAL), u64s(n, f->events));
out:
	free(labels);
	free(days);
}

static void sources(struct ctx *c)
{
	const struct lw_facts *f = c->f;
	const char *hs[7] = {T(c, M_HOST), T(c, M_ZONE), T(c, M_EVENTS), T(c, M_FIRST),
			     T(c, M_LAST), T(c, M_GAPS), T(c, M_SILENT)};
	const char *hg[4] = {T(c, M_HOST), T(c, M_GAP_FROM), T(c, M_GAP_TO), T(c, M_LENGTH)};
	size_t ngaps = 0;
	char n1[32], n2[32], t1[64], t2[64], len[32];

	lw_doc_heading(c->d, 2, T(c, M_SOURCES));
	lw_doc_table(c->d, 7, hs);
	for (size_t i = 0; i < f->nsources; i++) {
		const struct lw_facts_source *s = &f->sources[i];
		const char *cells[7];

		if (s->events) {
			time_text(s->first_ns, t1, sizeof(t1));
			time_text(s->last_ns, t2, sizeof(t2));
		}
		cells[0] = s->host[0] ? s->host : "-";
		cells[1] = s->zone != NULL ? s->zone : "";
		cells[2] = u64s(n1, s->events);
		cells[3] = s->events ? t1 : T(c, M_NO_EVENT_IN_PERIOD);
		cells[4] = s->events ? t2 : "";
		cells[5] = u64s(n2, s->ngaps);
		cells[6] = s->silent ? T(c, M_YES) : "";
		lw_doc_row(c->d, cells);
		ngaps += s->ngaps;
	}
	if (f->untracked_events > 0) {
		kv_table(c);
		kv_row(c, T(c, M_UNTRACKED), u64s(n1, f->untracked_events));
	}
	lw_doc_heading(c->d, 2, T(c, M_GAP_LIST));
	if (ngaps == 0) {
		lw_doc_para(c->d, T(c, M_NO_GAPS));
		return;
	}
	lw_doc_table(c->d, 4, hg);
	for (size_t i = 0; i < f->nsources; i++)
		for (size_t k = 0; k < f->sources[i].ngaps; k++) {
			const struct lw_facts_gap *g = &f->sources[i].gaps[k];
			const char *cells[4] = {f->sources[i].host, t1, t2, len};

			time_text(g->start_ns, t1, sizeof(t1));
			time_text(g->end_ns, t2, sizeof(t2));
			duration_text(g->end_ns - g->start_ns, len, sizeof(len));
			lw_doc_row(c->d, cells);
		}
}

/* Japanese for the loss counters; others show core's English help. */
static const char *counter_meaning(const struct ctx *c, const char *name)
{
	static const char *const ja[][2] = {
		{"dropped_udp", "キューが満杯のため破棄した UDP データグラム"},
		{"dropped_kernel", "受信バッファ溢れでカーネルが破棄したデータグラム"},
		{"dropped_store", "セグメントに格納できず破棄したイベント"},
		{"dropped_nomem", "メモリ不足で失われたフレーム"},
		{"incidents_dropped", "記録できなかったインシデントの発生"},
		{"notify_dropped", "送れなかった通知"},
		{"refused_not_allowed", "許可リスト外の送信元を拒否"},
		{"refused_max_connections", "接続数の上限で拒否"},
		{"connections_refused", "拒否した接続 (合計)"},
		{"rate_limited_dropped", "流量制限で破棄したデータグラム"},
		{"rate_limited_paused", "流量制限で受信を一時停止した回数"},
		{"rate_limited_listener_dropped", "リスナー全体の流量上限で破棄したデータグラム"},
		{"refused_max_connections_per_source", "送信元ごとの接続数の上限で拒否"},
	};

	if (c->lang == 0)
		for (size_t i = 0; i < sizeof(ja) / sizeof(ja[0]); i++)
			if (strcmp(ja[i][0], name) == 0)
				return ja[i][1];
	for (int id = 0; id < LW_CTR__COUNT; id++)
		if (strcmp(lw_counter_name((enum lw_counter)id), name) == 0)
			return lw_counter_help((enum lw_counter)id);
	return "";
}

static uint64_t losses(const struct lw_facts *f)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < f->ncounters; i++)
		sum += f->counters[i].value;
	return sum;
}

static void loss_and_skew(struct ctx *c)
{
	const struct lw_facts *f = c->f;
	const char *hc[3] = {T(c, M_COUNTER), T(c, M_VALUE), T(c, M_MEANING)};
	const char *hk[2] = {T(c, M_HOST), T(c, M_SKEWED)};
	int any_skew = 0;
	char n[32];

	lw_doc_heading(c->d, 2, T(c, M_LOSS));
	lw_doc_para(c->d, T(c, M_LOSS_NOTE));
	lw_doc_table(c->d, 3, hc);
	for (size_t i = 0; i < f->ncounters; i++) {
		const char *cells[3] = {f->counters[i].name, u64s(n, f->counters[i].value),
					counter_meaning(c, f->counters[i].name)};

		lw_doc_row(c->d, cells);
	}
	lw_doc_heading(c->d, 2, T(c, M_SKEW));
	for (size_t i = 0; i < f->nsources; i++) {
		const char *cells[2] = {f->sources[i].host, u64s(n, f->sources[i].skewed)};

		if (f->sources[i].skewed == 0)
			continue;
		if (!any_skew++)
			lw_doc_table(c->d, 2, hk);
		lw_doc_row(c->d, cells);
	}
	if (!any_skew)
		lw_doc_para(c->d, T(c, M_NO_SKEW));
}

static void integrity(struct ctx *c)
{
	const struct lw_facts *f = c->f;
	const struct lw_verify_result *v = &f->verify;
	const struct lw_store_checkpoint *k = &f->head.ckpt;
	char n[32], hex[LW_SHA256_HEX_LEN + 1], t[64], range[80];

	lw_doc_heading(c->d, 1, T(c, M_INTEGRITY));
	lw_doc_heading(c->d, 2, T(c, M_VERIFY));
	kv_table(c);
	kv_row(c, T(c, M_VERIFY), f->verify_rc == LW_OK ? T(c, M_VERIFY_OK) :
				  f->verify_rc == LW_ECORRUPT ? T(c, M_VERIFY_BAD) :
				  T(c, M_VERIFY_ERR));
	kv_row(c, T(c, M_SEGMENTS), u64s(n, v->segments));
	kv_row(c, T(c, M_EVENTS), u64s(n, v->events));
	lw_sha256_hex(v->head, hex);
	kv_row(c, T(c, M_CHAIN_HEAD), hex);
	kv_row(c, T(c, M_KEYED), v->keyed_store ? T(c, M_YES) : T(c, M_NO));
	kv_row(c, T(c, M_KEY_CHECKED), v->keyed_checked ? T(c, M_YES) : T(c, M_NO));
	if (f->verify_rc == LW_ECORRUPT) {
		kv_row(c, T(c, M_BAD_SEGMENT), u64s(n, v->bad_id));
		kv_row(c, T(c, M_REASON), v->reason);
	}
	lw_doc_heading(c->d, 2, T(c, M_RETENTION_DEL));
	if (!f->head.has_checkpoint) {
		lw_doc_para(c->d, T(c, M_NOTHING_DELETED));
		return;
	}
	kv_table(c);
	snprintf(range, sizeof(range), "1-%" PRIu64 " (%" PRIu64 ")", k->first_id - 1,
		 k->total_segments);
	kv_row(c, T(c, M_DELETED_RANGE), range);
	kv_row(c, T(c, M_DELETED_EVENTS), u64s(n, k->total_events));
	kv_row(c, T(c, M_DELETED_BYTES), u64s(n, k->total_bytes));
	time_text(k->time_ns, t, sizeof(t));
	snprintf(range, sizeof(range), "%s (%s)", t,
		 T(c, k->reason == LW_STORE_RETAIN_MAX_AGE ? M_DEL_REASON_AGE : M_DEL_REASON_BYTES));
	kv_row(c, T(c, M_LAST_DELETION), range);
	lw_sha256_hex(k->first_prev, hex);
	kv_row(c, T(c, M_CHAIN_HEAD), hex);
}

/* Distinct values of one incident member in first-seen order (levels in
 * severity order first, so the chart's colours keep their meaning). */
struct distinct {
	const char *v[64];
	size_t n;
};

static size_t distinct_add(struct distinct *d, const char *s)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->v[i], s) == 0)
			return i;
	if (d->n == 64)
		return 63; /* the 64th and later share the last slot */
	d->v[d->n] = s;
	return d->n++;
}

static int cmp_largest(const void *a, const void *b)
{
	const struct lw_facts_incident *x = *(const struct lw_facts_incident *const *)a;
	const struct lw_facts_incident *y = *(const struct lw_facts_incident *const *)b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static void incident_row(struct ctx *c, const struct lw_facts_incident *inc, const char *extra)
{
	char id[32], n[32];
	const char *cells[7] = {u64s(id, inc->id), inc->rule_title, inc->category, inc->level,
				inc->status, u64s(n, inc->count), extra};

	lw_doc_row(c->d, cells);
}

static void incident_table(struct ctx *c, enum msg last)
{
	const char *h[7] = {"ID", T(c, M_RULE), T(c, M_CATEGORY), T(c, M_LEVEL),
			    T(c, M_STATUS), T(c, M_COUNT), T(c, last)};

	lw_doc_table(c->d, 7, h);
}

static void chart_and_status(struct ctx *c)
{
	static const char *const levels[] = {"informational", "low", "medium", "high", "critical"};
	const struct lw_facts *f = c->f;
	struct distinct cats = {0}, lv = {0};
	uint64_t values[64 * 64] = {0}, by_status[3] = {0};
	const char *hs[2] = {T(c, M_STATUS), T(c, M_COUNT)};
	char n[32];

	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		distinct_add(&lv, levels[i]);
	for (size_t i = 0; i < f->nincidents; i++) {
		const struct lw_facts_incident *inc = &f->incidents[i];

		distinct_add(&cats, inc->category);
		distinct_add(&lv, inc->level);
	}
	for (size_t i = 0; i < f->nincidents; i++) {
		const struct lw_facts_incident *inc = &f->incidents[i];
		size_t cat = distinct_add(&cats, inc->category), l = distinct_add(&lv, inc->level);

		values[l * cats.n + cat]++;
		by_status[inc->closed_ns ? 2 : inc->ack_ns ? 1 : 0]++;
	}
	lw_doc_chart(c->d, T(c, M_CHART_INCIDENTS), (uint32_t)cats.n, cats.v, (uint32_t)lv.n,
		     lv.v, values);
	lw_doc_table(c->d, 2, hs);
	for (int s = 0; s < 3; s++) {
		const char *cells[2] = {lw_incidents_status_name((enum lw_incidents_status)s),
					u64s(n, by_status[s])};

		lw_doc_row(c->d, cells);
	}
}

static void response_times(struct ctx *c)
{
	const struct lw_facts *f = c->f;
	int64_t *tta = calloc(f->nincidents + 1, sizeof(*tta));
	int64_t *ttc = calloc(f->nincidents + 1, sizeof(*ttc));
	const char *h[4] = {"", T(c, M_MEDIAN), T(c, M_P90), T(c, M_MEASURED)};
	size_t na = 0, nc = 0;

	if (tta == NULL || ttc == NULL) {
		c->oom = 1;
		goto out;
	}
	for (size_t i = 0; i < f->nincidents; i++) {
		const struct lw_facts_incident *inc = &f->incidents[i];

		if (inc->ack_ns)
			tta[na++] = inc->ack_ns - inc->opened_ns;
		if (inc->closed_ns)
			ttc[nc++] = inc->closed_ns - inc->opened_ns;
	}
	lw_doc_table(c->d, 4, h);
	for (int k = 0; k < 2; k++) {
		int64_t *v = k == 0 ? tta : ttc;
		size_t nv = k == 0 ? na : nc;
		char med[32], p90[32], cnt[32];
		const char *cells[4] = {T(c, k == 0 ? M_TTA : M_TTC), med, p90, u64s(cnt, nv)};

		duration_text(lw_facts_percentile(v, nv, 50), med, sizeof(med));
		duration_text(lw_facts_percentile(v, nv, 90), p90, sizeof(p90));
		if (nv == 0)
			cells[1] = cells[2] = "-";
		lw_doc_row(c->d, cells);
	}
out:
	free(tta);
	free(ttc);
}

static void incidents(struct ctx *c)
{
	const struct lw_facts *f = c->f;
	const struct lw_facts_incident **sorted = calloc(f->nincidents + 1, sizeof(*sorted));
	const char *hf[4] = {T(c, M_RULE), "ID", T(c, M_CLOSED), T(c, M_FP_COUNT)};
	char n[32], n2[32], head[160], age[32];
	int any = 0;

	lw_doc_heading(c->d, 1, T(c, M_INCIDENTS));
	kv_table(c);
	kv_row(c, T(c, M_INCIDENTS_PERIOD), u64s(n, f->nincidents));
	if (sorted == NULL) {
		c->oom = 1;
		return;
	}
	chart_and_status(c);
	response_times(c);
	lw_doc_heading(c->d, 2, T(c, M_LARGEST));
	for (size_t i = 0; i < f->nincidents; i++)
		sorted[i] = &f->incidents[i];
	qsort(sorted, f->nincidents, sizeof(*sorted), cmp_largest);
	if (f->nincidents == 0)
		lw_doc_para(c->d, T(c, M_NO_INCIDENTS));
	else
		incident_table(c, M_GROUP);
	for (size_t i = 0; i < f->nincidents && i < TOP_INCIDENTS; i++)
		incident_row(c, sorted[i], sorted[i]->group);
	duration_text(f->opts.open_ns, age, sizeof(age));
	snprintf(head, sizeof(head), "%s (%s)", T(c, M_OPEN_LONG), age);
	lw_doc_heading(c->d, 2, head);
	for (size_t i = 0; i < f->nincidents; i++) {
		const struct lw_facts_incident *inc = &f->incidents[i];

		if (inc->closed_ns || f->opts.now_ns - inc->opened_ns <= f->opts.open_ns)
			continue;
		if (!any++)
			incident_table(c, M_AGE);
		duration_text(f->opts.now_ns - inc->opened_ns, age, sizeof(age));
		incident_row(c, inc, age);
	}
	if (!any)
		lw_doc_para(c->d, T(c, M_NO_INCIDENTS));
	lw_doc_heading(c->d, 2, T(c, M_FP));
	if (f->nrules_fp == 0)
		lw_doc_para(c->d, T(c, M_NO_INCIDENTS));
	else
		lw_doc_table(c->d, 4, hf);
	for (size_t i = 0; i < f->nrules_fp; i++) {
		const struct lw_facts_rule_fp *r = &f->rules_fp[i];
		const char *cells[4] = {r->rule_title, r->rule_id, u64s(n, r->closed),
					u64s(n2, r->false_positives)};

		lw_doc_row(c->d, cells);
	}
	free(sorted);
}

static void audit(struct ctx *c)
{
	const struct lw_facts *f = c->f;
	const char *h[7] = {T(c, M_TIME), T(c, M_ACTOR), T(c, M_ADDRESS), T(c, M_ACTION),
			    T(c, M_TARGET), T(c, M_RESULT), T(c, M_DETAIL)};
	char n[32], t[64];

	lw_doc_heading(c->d, 1, T(c, M_AUDIT));
	kv_table(c);
	kv_row(c, T(c, M_AUDIT_TOTAL), u64s(n, f->audit_total));
	kv_row(c, T(c, M_AUDIT_SHOWN), u64s(n, f->naudit));
	if (f->naudit == 0)
		return;
	lw_doc_table(c->d, 7, h);
	for (size_t i = 0; i < f->naudit; i++) {
		const struct lw_facts_audit *a = &f->audit[i];
		const char *cells[7] = {t, a->actor, a->address, a->action, a->target,
					lw_audit_result(a->status), a->detail};

		time_text(a->time_ns, t, sizeof(t));
		lw_doc_row(c->d, cells);
	}
}

/* Appends "label: a, b, c" naming up to 20 hosts that pass keep(). */
static void host_finding(struct ctx *c, enum msg label, enum msg rec,
			 int (*keep)(const struct lw_facts_source *))
{
	const struct lw_facts *f = c->f;
	struct lw_buf b;
	size_t n = 0;

	lw_buf_init(&b);
	for (size_t i = 0; i < f->nsources; i++) {
		if (!keep(&f->sources[i]))
			continue;
		if (n < 20)
			lw_buf_printf(&b, "%s%s", n ? ", " : "", f->sources[i].host);
		n++;
	}
	if (n > 20)
		lw_buf_printf(&b, " (+%zu)", n - 20);
	lw_buf_putc(&b, '\0');
	if (n > 0 && !b.oom) {
		char *text = malloc(b.len + 128);

		if (text == NULL) {
			c->oom = 1;
		} else {
			snprintf(text, b.len + 128, "%s (%zu): %s", T(c, label), n, b.data);
			finding(c, text, rec);
			free(text);
		}
	}
	if (b.oom)
		c->oom = 1;
	lw_buf_release(&b);
}

static int is_silent(const struct lw_facts_source *s) { return s->silent; }
static int has_gaps(const struct lw_facts_source *s) { return s->ngaps > 0; }
static int has_skew(const struct lw_facts_source *s) { return s->skewed > 0; }

static void findings(struct ctx *c)
{
	const struct lw_facts *f = c->f;
	uint64_t threshold = c->o->fp_threshold ? c->o->fp_threshold : 3, open_long = 0;
	char text[1024];
	size_t off = 0;

	host_finding(c, M_F_SILENT, M_R_SILENT, is_silent);
	host_finding(c, M_F_GAPS, M_R_GAPS, has_gaps);
	if (losses(f) > 0) {
		off = (size_t)snprintf(text, sizeof(text), "%s:", T(c, M_F_LOSS));
		for (size_t i = 0; i < f->ncounters && off < sizeof(text); i++)
			if (f->counters[i].value > 0)
				off += (size_t)snprintf(text + off, sizeof(text) - off, " %s=%" PRIu64,
							f->counters[i].name, f->counters[i].value);
		finding(c, text, M_R_LOSS);
	}
	if (f->verify_rc != LW_OK) {
		snprintf(text, sizeof(text), "%s: %s %" PRIu64 ": %s", T(c, M_F_VERIFY_BAD),
			 T(c, M_BAD_SEGMENT), f->verify.bad_id, f->verify.reason);
		finding(c, text, M_R_VERIFY_BAD);
	}
	if (!f->verify.keyed_store)
		finding(c, T(c, M_F_UNKEYED), M_R_UNKEYED);
	else if (!f->verify.keyed_checked)
		finding(c, T(c, M_F_NOKEY), M_R_NOKEY);
	for (size_t i = 0; i < f->nincidents; i++)
		open_long += !f->incidents[i].closed_ns &&
			     f->opts.now_ns - f->incidents[i].opened_ns > f->opts.open_ns;
	if (open_long > 0) {
		snprintf(text, sizeof(text), "%s: %" PRIu64, T(c, M_F_OPEN_LONG), open_long);
		finding(c, text, M_R_OPEN_LONG);
	}
	off = 0;
	for (size_t i = 0; i < f->nrules_fp; i++) {
		const struct lw_facts_rule_fp *r = &f->rules_fp[i];

		if (r->false_positives < threshold || off >= sizeof(text))
			continue;
		off += (size_t)snprintf(text + off, sizeof(text) - off, "%s%s (%s) %" PRIu64 "/%" PRIu64,
					off ? ", " : "", r->rule_title, r->rule_id,
					r->false_positives, r->closed);
	}
	if (off > 0) {
		char line[1200];

		snprintf(line, sizeof(line), "%s: %s", T(c, M_F_FP), text);
		finding(c, line, M_R_FP);
	}
	host_finding(c, M_F_SKEW, M_R_SKEW, has_skew);
	if (c->findings == 0) {
		lw_doc_heading(c->d, 1, T(c, M_FINDINGS));
		lw_doc_para(c->d, T(c, M_F_NONE));
	}
	lw_doc_heading(c->d, 1, T(c, M_RECOMMENDATIONS));
	if (c->findings == 0)
		lw_doc_para(c->d, T(c, M_R_NONE));
	for (size_t p = 0; p < c->recs.len && !c->recs.oom; p += strlen(c->recs.data + p) + 1)
		lw_doc_item(c->d, c->recs.data + p);
}

int lw_report_build(const struct lw_facts *f, const struct lw_report_opts *o,
		    struct lw_doc **out)
{
	struct ctx c = {.f = f, .o = o, .lang = o->english ? 1 : 0};
	char events[32];

	*out = NULL;
	c.d = lw_doc_new(T(&c, M_TITLE), o->english ? "en" : "ja");
	if (c.d == NULL)
		return LW_ENOMEM;
	lw_buf_init(&c.recs);
	scope(&c);
	lw_doc_heading(c.d, 1, T(&c, M_COMPLETENESS));
	kv_table(&c);
	kv_row(&c, T(&c, M_EVENTS_PERIOD), u64s(events, f->events));
	zones_chart(&c);
	sources(&c);
	loss_and_skew(&c);
	integrity(&c);
	incidents(&c);
	audit(&c);
	findings(&c);
	if (c.recs.oom)
		c.oom = 1;
	lw_buf_release(&c.recs);
	if (c.oom || c.d->oom) {
		lw_doc_free(c.d);
		return LW_ENOMEM;
	}
	*out = c.d;
	return LW_OK;
}
