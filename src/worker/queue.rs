//! The worker's job queue, shared by the connection threads and the engine thread: FIFO order,
//! cancellation, and fan-out of each job's events to every client watching it.

use super::proto::{Event, Job, JobId, JobState, JobStatus};
use crate::core::StepId;
use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// Where a connection's events go; its writer thread drains it.
pub type Outbox = Sender<Event>;

/// How many finished jobs keep their last event, so a client that reconnects can still learn
/// how its job ended.
const FINISHED_KEPT: usize = 256;

/// A job handed to the engine thread.
pub struct Claimed {
    pub id: JobId,
    pub job: Job,
    pub cancel: Arc<AtomicBool>,
}

#[derive(Default)]
pub struct Queue {
    state: Mutex<State>,
    wake: Condvar,
}

#[derive(Default)]
struct State {
    next_id: u64,
    queued: VecDeque<(JobId, Job)>,
    running: Option<Running>,
    watchers: HashMap<JobId, Vec<Outbox>>,
    finished: VecDeque<Event>,
    stopping: bool,
}

struct Running {
    id: JobId,
    session: PathBuf,
    step_id: Option<StepId>,
    progress: Option<(u32, u32)>,
    cancel: Arc<AtomicBool>,
}

impl State {
    fn ahead(&self) -> usize {
        self.queued.len() + usize::from(self.running.is_some())
    }

    /// Sends to every watcher of `id`, forgetting those whose connection is gone.
    fn broadcast(&mut self, id: JobId, event: &Event) {
        if let Some(list) = self.watchers.get_mut(&id) {
            list.retain(|w| w.send(event.clone()).is_ok());
        }
    }

    fn watch(&mut self, id: JobId, outbox: &Outbox) {
        self.watchers.entry(id).or_default().push(outbox.clone());
    }

    /// Sends a job's last event and forgets its watchers.
    fn finish(&mut self, id: JobId, event: Event) {
        self.broadcast(id, &event);
        self.watchers.remove(&id);
        if self.finished.len() == FINISHED_KEPT {
            self.finished.pop_front();
        }
        self.finished.push_back(event);
    }

    fn finished(&self, id: JobId) -> Option<&Event> {
        self.finished.iter().rev().find(|e| e.job_id() == Some(id))
    }
}

fn not_found(id: JobId) -> Event {
    Event::Error {
        kind: "not_found".into(),
        message: format!("job {id} is not known to this worker (it may predate a restart)"),
        job_id: Some(id),
    }
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind; keep serving with it.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `job`; the submitter watches it and hears `Accepted` before any other event.
    pub fn submit(&self, job: Job, outbox: &Outbox) {
        let mut s = self.lock();
        if s.stopping {
            let _ = outbox.send(Event::error("stopping", "the worker is shutting down"));
            return;
        }
        s.next_id += 1;
        let id = JobId(s.next_id);
        let position = s.ahead();
        s.queued.push_back((id, job));
        s.watch(id, outbox);
        s.broadcast(
            id,
            &Event::Accepted {
                job_id: id,
                position,
            },
        );
        self.wake.notify_all();
    }

    /// Cancels a queued job at once; a running one stops at its next progress callback and the
    /// canceller hears how it ended.
    pub fn cancel(&self, id: JobId, outbox: &Outbox) {
        let mut s = self.lock();
        if let Some(i) = s.queued.iter().position(|(q, _)| *q == id) {
            s.queued.remove(i);
            s.watch(id, outbox);
            s.finish(
                id,
                Event::Cancelled {
                    job_id: id,
                    step_id: None,
                },
            );
        } else if let Some(r) = s.running.as_ref().filter(|r| r.id == id) {
            r.cancel.store(true, Ordering::SeqCst);
            s.watch(id, outbox);
        } else {
            let _ = outbox.send(s.finished(id).cloned().unwrap_or_else(|| not_found(id)));
        }
    }

    /// Follows a job again: the watcher first hears where the job is now.
    pub fn watch(&self, id: JobId, outbox: &Outbox) {
        let mut s = self.lock();
        let now = if let Some(i) = s.queued.iter().position(|(q, _)| *q == id) {
            let position = i + usize::from(s.running.is_some());
            Event::Accepted {
                job_id: id,
                position,
            }
        } else if let Some(r) = s.running.as_ref().filter(|r| r.id == id) {
            let started = r.step_id.map(|step_id| Event::Started {
                job_id: id,
                step_id,
            });
            let progress = r.progress.map(|(step, total)| Event::Progress {
                job_id: id,
                step,
                total,
            });
            if started.is_none() && progress.is_none() {
                Event::Accepted {
                    job_id: id,
                    position: 0,
                }
            } else {
                let sent = started
                    .into_iter()
                    .chain(progress)
                    .all(|e| outbox.send(e).is_ok());
                if sent {
                    s.watch(id, outbox);
                }
                return;
            }
        } else {
            let _ = outbox.send(s.finished(id).cloned().unwrap_or_else(|| not_found(id)));
            return;
        };
        if outbox.send(now).is_ok() {
            s.watch(id, outbox);
        }
    }

    /// The running job first, then the queue in order.
    pub fn status(&self) -> Vec<JobStatus> {
        let s = self.lock();
        let running = s.running.iter().map(|r| JobStatus {
            job_id: r.id,
            session: r.session.clone(),
            step_id: r.step_id,
            state: JobState::Running,
            progress: r.progress,
        });
        let queued = s.queued.iter().map(|(id, job)| JobStatus {
            job_id: *id,
            session: job.session_dir.clone(),
            step_id: None,
            state: JobState::Queued,
            progress: None,
        });
        running.chain(queued).collect()
    }

    /// Blocks until a job is queued; `None` once the worker is stopping.
    pub fn claim(&self) -> Option<Claimed> {
        let mut s = self.lock();
        loop {
            if s.stopping {
                return None;
            }
            if let Some((id, job)) = s.queued.pop_front() {
                let cancel = Arc::new(AtomicBool::new(false));
                s.running = Some(Running {
                    id,
                    session: job.session_dir.clone(),
                    step_id: None,
                    progress: None,
                    cancel: cancel.clone(),
                });
                return Some(Claimed { id, job, cancel });
            }
            s = self.wake.wait(s).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// The running job's step is recorded: its watchers hear `Started`.
    pub fn set_step(&self, id: JobId, step: StepId) {
        let mut s = self.lock();
        if let Some(r) = s.running.as_mut().filter(|r| r.id == id) {
            r.step_id = Some(step);
        }
        s.broadcast(
            id,
            &Event::Started {
                job_id: id,
                step_id: step,
            },
        );
    }

    pub fn progress(&self, id: JobId, step: u32, total: u32) {
        let mut s = self.lock();
        if let Some(r) = s.running.as_mut().filter(|r| r.id == id) {
            r.progress = Some((step, total));
        }
        s.broadcast(
            id,
            &Event::Progress {
                job_id: id,
                step,
                total,
            },
        );
    }

    /// The engine thread is done with the running job.
    pub fn done(&self, id: JobId, event: Event) {
        let mut s = self.lock();
        if s.running.as_ref().is_some_and(|r| r.id == id) {
            s.running = None;
        }
        s.finish(id, event);
    }

    /// Stops taking jobs: queued ones are cancelled, the running one is asked to stop.
    pub fn stop(&self) {
        let mut s = self.lock();
        s.stopping = true;
        while let Some((id, _)) = s.queued.pop_front() {
            s.finish(
                id,
                Event::Cancelled {
                    job_id: id,
                    step_id: None,
                },
            );
        }
        if let Some(r) = &s.running {
            r.cancel.store(true, Ordering::SeqCst);
        }
        self.wake.notify_all();
    }

    pub fn stopping(&self) -> bool {
        self.lock().stopping
    }
}
