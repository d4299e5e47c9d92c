/*
 * install-text.c — extracting lesson text on a second thread while an
 * install goes on reading files and writing rows (see store-install.c).
 *
 * A school box has two cores; text extraction (the HTML parser) is about
 * half of the work of reading a pack, and it needs nothing from the store.
 * The install thread hands each lesson file to one extraction thread and
 * takes the texts back as they are ready; only the install thread touches
 * SQLite and the blob store. Lesson files waiting for extraction are capped
 * in bytes, so memory stays bounded whatever the pack.
 */
#include <pthread.h>

#include "core-private.h"

/* Bytes of lesson files that may wait for extraction at once. */
#define QUEUED_BYTES_MAX (8u * 1024 * 1024)

struct text_pipe {
	const kho_install_hooks *hooks;
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	text_job *todo, *todo_tail;  /* waiting for the extraction thread */
	text_job *done, *done_tail;  /* extracted, waiting for the install */
	size_t queued_bytes;
	size_t in_flight;            /* pushed and not yet popped (install thread only) */
	bool cancelled;              /* stop at once */
};

static void append(text_job **head, text_job **tail, text_job *job)
{
	job->next = NULL;
	if (*tail)
		(*tail)->next = job;
	else
		*head = job;
	*tail = job;
}

static text_job *take(text_job **head, text_job **tail)
{
	text_job *job = *head;
	if (job) {
		*head = job->next;
		if (!*head)
			*tail = NULL;
	}
	return job;
}

void text_job_free(text_job *job)
{
	if (!job)
		return;
	kho_buf_free(&job->html);
	free(job->text);
	free(job);
}

static void run_job(const kho_install_hooks *hooks, text_job *job)
{
	job->rc = hooks->extract(hooks->payload, &job->text,
		job->html.data ? job->html.data : "", job->html.len);
	if (job->rc)
		snprintf(job->error, sizeof job->error, "%s", kho_error_last());
	kho_buf_free(&job->html);
}

static void *worker(void *arg)
{
	text_pipe *p = arg;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->todo && !p->cancelled)
			pthread_cond_wait(&p->changed, &p->lock);
		if (p->cancelled)
			break;
		text_job *job = take(&p->todo, &p->todo_tail);
		size_t bytes = job->html.len;
		pthread_mutex_unlock(&p->lock);
		run_job(p->hooks, job);
		pthread_mutex_lock(&p->lock);
		p->queued_bytes -= bytes;
		append(&p->done, &p->done_tail, job);
		pthread_cond_broadcast(&p->changed);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int text_pipe_start(text_pipe **out, const kho_install_hooks *hooks)
{
	text_pipe *p = calloc(1, sizeof *p);
	if (!p)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	p->hooks = hooks;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->changed, NULL);
	/* Without a thread the jobs simply run on the install thread. */
	p->started = kho_cpus() > 1 && pthread_create(&p->thread, NULL, worker, p) == 0;
	*out = p;
	return KHO_OK;
}

void text_pipe_push(text_pipe *p, text_job *job)
{
	if (!p->started) {
		run_job(p->hooks, job);
		append(&p->done, &p->done_tail, job);
		p->in_flight++;
		return;
	}
	pthread_mutex_lock(&p->lock);
	while (p->queued_bytes && p->queued_bytes + job->html.len > QUEUED_BYTES_MAX)
		pthread_cond_wait(&p->changed, &p->lock);
	p->queued_bytes += job->html.len;
	p->in_flight++;
	append(&p->todo, &p->todo_tail, job);
	pthread_cond_broadcast(&p->changed);
	pthread_mutex_unlock(&p->lock);
}

text_job *text_pipe_pop(text_pipe *p, bool wait)
{
	text_job *job = NULL;
	if (!p->started) {
		job = take(&p->done, &p->done_tail);
	} else {
		pthread_mutex_lock(&p->lock);
		while (wait && !p->done && p->in_flight)
			pthread_cond_wait(&p->changed, &p->lock);
		job = take(&p->done, &p->done_tail);
		pthread_mutex_unlock(&p->lock);
	}
	if (job)
		p->in_flight--;
	return job;
}

void text_pipe_free(text_pipe *p)
{
	if (!p)
		return;
	if (p->started) {
		pthread_mutex_lock(&p->lock);
		p->cancelled = true;
		pthread_cond_broadcast(&p->changed);
		pthread_mutex_unlock(&p->lock);
		pthread_join(p->thread, NULL);
	}
	text_job *job;
	while ((job = take(&p->todo, &p->todo_tail)))
		text_job_free(job);
	while ((job = take(&p->done, &p->done_tail)))
		text_job_free(job);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->changed);
	free(p);
}
