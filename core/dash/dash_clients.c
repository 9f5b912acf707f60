// The WebSocket clients of a dash: a list in which pushes visit them, and an index by
// connection, so that a client's message or close finds it at once.
#include "dash_internal.h"

// Open addressing with linear probing, kept at most half full. A walk of the list per
// close made 10,000 clients closing together cost over a second of one loop pass.
static size_t clients_home(const struct mg_dash *dash, const struct mg_connection *c) {
  uint32_t h = (uint32_t) ((uintptr_t) c >> 4);  // Allocations are 16-byte aligned
  h ^= h >> 16, h *= 0x7feb352dU, h ^= h >> 15, h *= 0x846ca68bU, h ^= h >> 16;  // Every bit stirs the low ones
  return (size_t) h & (dash->index_size - 1);
}

static size_t clients_next(const struct mg_dash *dash, size_t i) {
  return (i + 1) & (dash->index_size - 1);
}

static void clients_place(struct mg_dash *dash, struct mg_dash_client *cl) {
  size_t i = clients_home(dash, cl->c);
  while (dash->index[i] != NULL) i = clients_next(dash, i);
  dash->index[i] = cl;
}

bool mg_dash_clients_reserve(struct mg_dash *dash) {
  if ((dash->nclients + 1) * 2 <= dash->index_size) return true;
  size_t size = dash->index_size == 0 ? 16 : dash->index_size * 2;
  struct mg_dash_client **index = (struct mg_dash_client **) mg_calloc(size, sizeof(*index));
  if (index == NULL) return false;
  mg_free(dash->index);
  dash->index = index, dash->index_size = size;
  for (struct mg_dash_client *cl = dash->clients; cl != NULL; cl = cl->next) clients_place(dash, cl);
  return true;
}

void mg_dash_clients_add(struct mg_dash *dash, struct mg_dash_client *cl) {
  cl->prev = NULL, cl->next = dash->clients;
  if (cl->next != NULL) cl->next->prev = cl;
  dash->clients = cl;
  dash->nclients++;
  clients_place(dash, cl);
}

struct mg_dash_client *mg_dash_clients_find(const struct mg_dash *dash, const struct mg_connection *c) {
  if (dash->index_size == 0) return NULL;
  for (size_t i = clients_home(dash, c); dash->index[i] != NULL; i = clients_next(dash, i)) {
    if (dash->index[i]->c == c) return dash->index[i];
  }
  return NULL;
}

// Empties slot i and moves up the entries after it that would no longer be found
// (those whose home is not in the cyclic range (i, j])
static void clients_unplace(struct mg_dash *dash, size_t i) {
  dash->index[i] = NULL;
  for (size_t j = clients_next(dash, i); dash->index[j] != NULL; j = clients_next(dash, j)) {
    size_t k = clients_home(dash, dash->index[j]->c);
    bool stays = i <= j ? (k > i && k <= j) : (k > i || k <= j);
    if (stays) continue;
    dash->index[i] = dash->index[j];
    dash->index[j] = NULL;
    i = j;
  }
}

void mg_dash_clients_forget(struct mg_dash *dash, const struct mg_connection *c) {
  struct mg_dash_client *cl = mg_dash_clients_find(dash, c);
  if (cl == NULL) return;
  size_t i = clients_home(dash, c);
  while (dash->index[i] != cl) i = clients_next(dash, i);
  clients_unplace(dash, i);
  if (cl->prev != NULL) cl->prev->next = cl->next;
  else dash->clients = cl->next;
  if (cl->next != NULL) cl->next->prev = cl->prev;
  dash->nclients--;
  mg_free(cl);
}

void mg_dash_clients_free(struct mg_dash *dash) {
  while (dash->clients != NULL) {
    struct mg_dash_client *cl = dash->clients;
    dash->clients = cl->next;
    mg_free(cl);
  }
  mg_free(dash->index);
  dash->index = NULL, dash->index_size = dash->nclients = 0;
}
