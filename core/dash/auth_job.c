// Password hashing off the request path: a login, setup or new user waits, unanswered, in
// one of MG_AUTH_MAX_PENDING slots while its PBKDF2 runs in slices between the loop's other work.
#include "dash/auth_internal.h"

#define JOB_CHUNK 16  // Iterations between looks at the clock: ~16 us on a host, a few ms on a small MCU

// The waiting connection, if it is still there: it may have closed (and its memory gone)
static struct mg_connection *job_conn(const struct mg_auth_job *job) {
  for (struct mg_connection *c = job->mgr->conns; c != NULL; c = c->next) {
    if (c->id == job->conn_id) return c->is_closing ? NULL : c;
  }
  return NULL;
}

static size_t job_count(const struct mg_auth *auth) {
  size_t n = 0;
  for (size_t i = 0; i < MG_AUTH_MAX_PENDING; i++) n += auth->jobs[i].kind != MG_AUTH_JOB_NONE;
  return n;
}

static void job_end(struct mg_auth_job *job) {
  struct mg_auth *auth = job->auth;
  mg_pbkdf2_finish(&job->kdf);
  mg_auth_wipe(job, sizeof(*job));  // The password, and a free slot (MG_AUTH_JOB_NONE)
  if (job_count(auth) == 0 && auth->job_mgr != NULL) {  // Idle: the loop may sleep again
    mg_timer_free(&auth->job_mgr->timers, &auth->job_timer);
    auth->job_mgr = NULL;
  }
}

void mg_auth_jobs_free(struct mg_auth *auth) {
  for (size_t i = 0; i < MG_AUTH_MAX_PENDING; i++) {
    if (auth->jobs[i].kind != MG_AUTH_JOB_NONE) job_end(&auth->jobs[i]);
  }
}

static void job_hash(struct mg_auth_job *job, const unsigned char *salt, uint32_t iterations) {
  mg_pbkdf2_start(&job->kdf, job->pass, strlen(job->pass), salt, MG_AUTH_SALT_LEN, iterations, job->hash,
                  sizeof(job->hash));
}

// The user is as the job found it: the check was made against what is there now
static struct mg_auth_user *job_user_unchanged(struct mg_auth_job *job) {
  struct mg_auth_user *u = job->known ? mg_auth_user_find(job->auth, job->name) : NULL;
  if (u == NULL || u->iterations != job->user.iterations || memcmp(u->salt, job->user.salt, sizeof(u->salt)) != 0)
    return NULL;
  return u;
}

static void job_session(struct mg_auth_job *job, struct mg_connection *c) {
  struct mg_auth_user *u = mg_auth_user_find(job->auth, job->name);
  struct mg_auth_session *s = u == NULL ? NULL : mg_auth_session_new(job->auth, u->name, mg_millis());
  if (u == NULL) {
    mg_auth_reply_error(c, 401, MG_AUTH_CHALLENGE, "wrong user or password");  // Removed meanwhile
  } else if (s == NULL) {
    mg_auth_reply_error(c, 500, NULL, "cannot start a session");
  } else {
    MG_INFO(("login of %s from %M", u->name, mg_print_ip, &c->rem));
    mg_auth_reply_session(c, s, u->level);
  }
}

// Answers the login, or starts the re-hash of a hash with fewer iterations than the build's (true)
static bool job_login_done(struct mg_auth_job *job, struct mg_connection *c) {
  struct mg_auth *auth = job->auth;
  struct mg_auth_user *u = job_user_unchanged(job);
  bool ok = mg_timingsafe_eq(job->hash, job->user.hash, sizeof(job->hash)) && u != NULL;
  if (!ok) {
    MG_INFO(("failed login as %m from %M", MG_ESC(job->name), mg_print_ip, &c->rem));
    mg_auth_throttle_fail(auth, &c->rem, job->name, mg_millis());
    mg_auth_reply_error(c, 401, MG_AUTH_CHALLENGE, "wrong user or password");
    return false;
  }
  mg_auth_throttle_pass(auth, &c->rem, job->name);
  if (u->iterations < auth->iterations && mg_random(job->salt, sizeof(job->salt))) {
    job->kind = MG_AUTH_JOB_UPGRADE;  // Raised since this hash was made: re-hash now
    job->iterations = auth->iterations;
    job_hash(job, job->salt, job->iterations);
    return true;
  }
  job_session(job, c);
  return false;
}

static void job_upgrade_done(struct mg_auth_job *job, struct mg_connection *c) {
  struct mg_auth_user *u = job_user_unchanged(job);
  if (u != NULL) {
    struct mg_auth_user old = *u;
    memcpy(u->salt, job->salt, sizeof(u->salt));
    memcpy(u->hash, job->hash, sizeof(u->hash));
    u->iterations = job->iterations;
    if (mg_auth_users_save(job->auth)) {
      MG_INFO(("password hash of %s upgraded to %lu iterations", u->name, (unsigned long) u->iterations));
    } else {
      *u = old;  // Memory stays what the file holds; the next login tries again
    }
    mg_auth_wipe(&old, sizeof(old));
  }
  job_session(job, c);
}

// The new user into the table and the file; NULL when answered with an error
static struct mg_auth_user *job_put_user(struct mg_auth_job *job, struct mg_connection *c) {
  struct mg_auth_user nu;
  memset(&nu, 0, sizeof(nu));
  mg_snprintf(nu.name, sizeof(nu.name), "%s", job->name);
  nu.level = job->level;
  nu.iterations = job->iterations;
  memcpy(nu.salt, job->salt, sizeof(nu.salt));
  memcpy(nu.hash, job->hash, sizeof(nu.hash));
  struct mg_auth_user *u = mg_auth_user_put(job->auth, &nu);
  mg_auth_wipe(&nu, sizeof(nu));
  if (u == NULL) {
    char msg[64];
    mg_snprintf(msg, sizeof(msg), "no room for more users (%d at most)", (int) MG_AUTH_MAX_USERS);
    mg_auth_reply_error(c, 409, NULL, msg);
  } else if (!mg_auth_users_save(job->auth)) {
    memset(u, 0, sizeof(*u));
    mg_auth_reply_error(c, 500, NULL, "cannot save the users file: see the device log");
    u = NULL;
  }
  return u;
}

static void job_setup_done(struct mg_auth_job *job, struct mg_connection *c) {
  struct mg_auth *auth = job->auth;
  if (mg_auth_admins(auth) > 0) {  // Another setup finished first
    mg_auth_reply_error(c, 409, NULL, "already set up");
    return;
  }
  struct mg_auth_user *u = mg_auth_user_find(auth, job->name);
  if (u != NULL) {  // A viewer of that name cannot be left (never written: no admin), nor its
    mg_auth_sessions_end_user(auth, u->name);  // sessions, which would pass for the new admin's
    memset(u, 0, sizeof(*u));
  }
  u = job_put_user(job, c);
  if (u == NULL) return;
  struct mg_auth_session *s = mg_auth_session_new(auth, u->name, mg_millis());
  MG_INFO(("setup: user admin created from %M", mg_print_ip, &c->rem));
  if (s == NULL) mg_auth_reply_error(c, 500, NULL, "cannot start a session");
  else mg_auth_reply_session(c, s, u->level);
}

// The admin who asked may have logged out, been removed or lost the level while the hash
// ran: the request is judged by the session as it is now. false when answered with an error.
static bool job_still_admin(struct mg_auth_job *job, struct mg_connection *c) {
  int level = mg_auth_session_level(job->auth, job->session);
  if (level >= MG_DASH_ADMIN) return true;
  MG_INFO(("user %s not added: the session that asked %s meanwhile", job->name,
           level == MG_DASH_NOBODY ? "ended" : "lost the admin level"));
  if (level == MG_DASH_NOBODY) {
    mg_auth_reply_error(c, 401, MG_AUTH_CHALLENGE, "login required: your session ended before the user was added");
  } else {
    mg_auth_reply_error(c, 403, NULL, "forbidden: this needs an admin, and your session is no longer one");
  }
  return false;
}

static void job_add_done(struct mg_auth_job *job, struct mg_connection *c) {
  if (!job_still_admin(job, c)) return;
  if (mg_auth_user_find(job->auth, job->name) != NULL) {  // Added meanwhile
    mg_auth_reply_error(c, 409, NULL, "user exists");
    return;
  }
  struct mg_auth_user *u = job_put_user(job, c);
  if (u == NULL) return;
  MG_INFO(("user %s (%s) added", u->name, mg_dash_level_name(u->level)));
  mg_http_reply(c, 201, MG_AUTH_JSON, "{\"user\":%m,\"level\":\"%s\"}\n", MG_ESC(u->name), mg_dash_level_name(u->level));
}

// The hash is done: answer c; true when the job goes on hashing
static bool job_done(struct mg_auth_job *job, struct mg_connection *c) {
  switch (job->kind) {
    case MG_AUTH_JOB_LOGIN: return job_login_done(job, c);
    case MG_AUTH_JOB_UPGRADE: job_upgrade_done(job, c); break;
    case MG_AUTH_JOB_SETUP: job_setup_done(job, c); break;
    default: job_add_done(job, c); break;
  }
  return false;
}

// The jobs' timer, once per loop pass: about MG_AUTH_SLICE_MS of hashing shared by all
// the jobs, a chunk each in turn, then the loop goes on with its connections
// The client left before its answer: no answer owed, no more work. A login still counts
// as a failed one, or a guesser could hang up on every guess and never be throttled.
static void job_abandon(struct mg_auth_job *job) {
  MG_DEBUG(("%lu gone: its password hash is dropped", job->conn_id));
  if (job->kind == MG_AUTH_JOB_LOGIN) mg_auth_throttle_fail(job->auth, &job->rem, job->name, mg_millis());
  job_end(job);
}

static void job_slice(void *arg) {
  struct mg_auth *auth = (struct mg_auth *) arg;
  for (size_t i = 0; i < MG_AUTH_MAX_PENDING; i++) {
    struct mg_auth_job *job = &auth->jobs[i];
    if (job->kind != MG_AUTH_JOB_NONE && job_conn(job) == NULL) job_abandon(job);
  }
  uint64_t start = mg_millis();
  while (job_count(auth) > 0 && mg_millis() - start < MG_AUTH_SLICE_MS) {
    for (size_t i = 0; i < MG_AUTH_MAX_PENDING; i++) {
      struct mg_auth_job *job = &auth->jobs[i];
      if (job->kind == MG_AUTH_JOB_NONE || !mg_pbkdf2_step(&job->kdf, JOB_CHUNK)) continue;
      struct mg_connection *c = job_conn(job);
      if (c == NULL) job_abandon(job);
      else if (!job_done(job, c)) job_end(job);
    }
  }
}

// Full: 503, logged once a second at most (a flood must not flood the log too)
static void job_busy(struct mg_auth *auth, struct mg_connection *c) {
  if (mg_auth_log_due(&auth->busy_logged)) {
    MG_ERROR(("503 for %M: %d password hashes already running (others refused this second are not logged)",
              mg_print_ip, &c->rem, (int) MG_AUTH_MAX_PENDING));
  }
  mg_auth_reply_error(c, 503, "Retry-After: 1\r\n", "busy: too many logins at once, try again in a second");
}

struct mg_auth_job *mg_auth_job_start(struct mg_auth *auth, struct mg_connection *c, int kind, const char *user,
                                      int level, const char *pass) {
  struct mg_auth_job *job = NULL;
  for (size_t i = 0; i < MG_AUTH_MAX_PENDING && job == NULL; i++) {
    if (auth->jobs[i].kind == MG_AUTH_JOB_NONE) job = &auth->jobs[i];
  }
  if (job == NULL) {
    job_busy(auth, c);
    return NULL;
  }
  memset(job, 0, sizeof(*job));
  job->auth = auth;
  job->mgr = c->mgr;
  job->conn_id = c->id;
  job->rem = c->rem;
  job->level = level;
  mg_snprintf(job->name, sizeof(job->name), "%s", user);
  mg_snprintf(job->pass, sizeof(job->pass), "%s", pass);
  if (kind == MG_AUTH_JOB_LOGIN) {
    struct mg_auth_user *u = mg_auth_user_find(auth, user);
    job->known = u != NULL;
    if (u != NULL) job->user = *u;
    else job->user.iterations = auth->iterations;  // As slow as a real check: times do not tell which names exist
    job_hash(job, job->user.salt, job->user.iterations);
  } else if (mg_random(job->salt, sizeof(job->salt))) {
    job->iterations = auth->iterations;
    job_hash(job, job->salt, job->iterations);
  } else {
    MG_ERROR(("no random bytes for a password salt"));
    mg_auth_wipe(job, sizeof(*job));
    mg_auth_reply_error(c, 500, NULL, "no random bytes for a password salt: see the device log");
    return NULL;
  }
  job->kind = kind;
  if (auth->job_mgr == NULL) {
    // Period 0: due at every pass, so mg_mgr_poll does not sleep while there is work
    // (one auth serves one manager's connections: its loop runs every job)
    mg_timer_init(&c->mgr->timers, &auth->job_timer, 0, MG_TIMER_REPEAT | MG_TIMER_RUN_NOW, job_slice, auth);
    auth->job_mgr = c->mgr;
  }
  return job;
}
