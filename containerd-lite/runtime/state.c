/* runtime/state.c: ROOT/ID/state.json and the status derived from it. The status
 * is not stored: it is read off the process (alive, same start time) and
 * the exec fifo (there until start), so no daemon has to keep it. */
#include "cl-private.h"
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char *cl_status_name(enum cl_status s)
{
	static const char *const names[] = {"creating", "created", "running", "stopped", "paused"};

	return names[s];
}

char *cl_state_dir(const char *root, const char *id)
{
	return cl_path_join(root ? root : CL_DEFAULT_ROOT, id);
}

/* runc's rule: letters, digits, and _ + - . ; not "." or "..". */
int cl_valid_id(const char *id, struct cl_err *e)
{
	size_t n = strlen(id);

	if (n == 0 || n > 1024 || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
		return cl_error(e, 0, "invalid container id \"%s\"", id);
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("_+-.", *p)))
			return cl_error(e, 0, "invalid container id \"%s\"", id);
	return 0;
}

char *cl_now_rfc3339(void)
{
	struct timespec ts;
	struct tm tm;
	char buf[64];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec);
	return cl_strdup(buf);
}

int cl_state_write(const char *dir, const struct cl_state *st, struct cl_err *e)
{
	json_t *o = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:I}", "ociVersion",
			      st->oci_version, "id", st->id, "pid", (int)st->pid, "bundle",
			      st->bundle, "rootfs", st->rootfs, "created", st->created, "owner",
			      st->owner ? st->owner : "", "cgroup", st->cgroup, "startTime",
			      (json_int_t)st->start_time);
	char *path = cl_path_join(dir, "state.json"), *tmp = cl_path_join(dir, ".state.json");
	int ret = 0;

	if (!o) {
		ret = cl_error(e, EINVAL, "encode the state of %s", st->id);
		goto out;
	}
	if (st->annotations_json)
		json_object_set_new(o, "annotations", json_loads(st->annotations_json, 0, NULL));
	if (st->root_bound)
		json_object_set_new(o, "rootfsBound", json_true());
	/* written whole, then renamed: a reader never sees half a state */
	if (json_dump_file(o, tmp, JSON_COMPACT) < 0)
		ret = cl_error(e, errno ? errno : EIO, "write %s", tmp);
	else if (rename(tmp, path) < 0)
		ret = cl_error(e, errno, "rename %s", tmp);
	json_decref(o);
out:
	free(path);
	free(tmp);
	return ret;
}

static char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return cl_strdup(s ? s : "");
}

static enum cl_status derive_status(const char *dir, struct cl_state *st)
{
	char *fifo = cl_path_join(dir, "exec.fifo");
	struct stat sb;
	bool created = stat(fifo, &sb) == 0;

	free(fifo);
	if (st->pid <= 0 || cl_proc_start_time(st->pid) != st->start_time)
		return CL_STOPPED;
	if (created)
		return CL_CREATED;
	return cl_cgroup_frozen(st->cgroup) ? CL_PAUSED : CL_RUNNING;
}

int cl_state_read(const char *root, const char *id, struct cl_state *st, struct cl_err *e)
{
	char *dir = cl_state_dir(root, id), *path = cl_path_join(dir, "state.json");
	json_error_t jerr;
	struct stat sb;
	json_t *o, *ann;
	int ret = 0;

	memset(st, 0, sizeof(*st));
	e->msg[0] = 0;
	if (cl_valid_id(id, e) < 0 || stat(dir, &sb) < 0) {
		ret = e->msg[0] ? -1 : cl_error(e, 0, "container \"%s\" does not exist", id);
		goto out;
	}
	o = json_load_file(path, 0, &jerr);
	if (!o) {
		/* the directory exists but create has not finished */
		st->id = cl_strdup(id);
		st->status = CL_CREATING;
		goto out;
	}
	st->oci_version = jstr(o, "ociVersion");
	st->id = jstr(o, "id");
	st->bundle = jstr(o, "bundle");
	st->rootfs = jstr(o, "rootfs");
	st->created = jstr(o, "created");
	st->owner = jstr(o, "owner");
	st->cgroup = jstr(o, "cgroup");
	st->pid = (pid_t)json_integer_value(json_object_get(o, "pid"));
	st->start_time = (unsigned long long)json_integer_value(json_object_get(o, "startTime"));
	st->root_bound = json_is_true(json_object_get(o, "rootfsBound"));
	ann = json_object_get(o, "annotations");
	if (ann)
		st->annotations_json = json_dumps(ann, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	st->status = derive_status(dir, st);
out:
	free(dir);
	free(path);
	return ret;
}

char *cl_state_json(const struct cl_state *st)
{
	/* runc's field order and indentation; a stopped container has pid 0 */
	json_t *o = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s}", "ociVersion",
			      st->oci_version ? st->oci_version : "", "id", st->id, "pid",
			      st->status == CL_STOPPED ? 0 : (int)st->pid, "status",
			      cl_status_name(st->status), "bundle", st->bundle ? st->bundle : "",
			      "rootfs", st->rootfs ? st->rootfs : "", "created",
			      st->created ? st->created : "", "owner", st->owner ? st->owner : "");
	char *s;

	if (st->annotations_json)
		json_object_set_new(o, "annotations", json_loads(st->annotations_json, 0, NULL));
	s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}

void cl_state_free(struct cl_state *st)
{
	free(st->oci_version);
	free(st->id);
	free(st->bundle);
	free(st->rootfs);
	free(st->created);
	free(st->owner);
	free(st->cgroup);
	free(st->annotations_json);
	memset(st, 0, sizeof(*st));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int cl_list(const char *root, char ***ids, struct cl_err *e)
{
	DIR *d = opendir(root ? root : CL_DEFAULT_ROOT);
	struct dirent *de;
	size_t n = 0;
	char **v = calloc(1, sizeof(char *));

	if (!v)
		abort();
	*ids = v;
	if (!d)
		return errno == ENOENT ? 0 : cl_error(e, errno, "open %s", root);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || de->d_type != DT_DIR)
			continue;
		v = realloc(v, (n + 2) * sizeof(char *));
		if (!v)
			abort();
		v[n++] = cl_strdup(de->d_name);
		v[n] = NULL;
	}
	closedir(d);
	qsort(v, n, sizeof(char *), cmp_str);
	*ids = v;
	return 0;
}
