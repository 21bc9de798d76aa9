//! Turning a job's events into the step it recorded: the one place every client (the CLI, the
//! studio, over the socket or in-process) learns how a job ended.

use super::proto::{Event, JobId};
use super::WorkerError;
use crate::core::Step;
use crate::core::{StepError, StepId};
use crate::session::Session;
use std::path::{Path, PathBuf};

/// Follows one job: feed it the job's events until it gives the recorded step.
#[derive(Debug, Clone)]
pub struct Follow {
    pub job: JobId,
    dir: PathBuf,
    /// The step the job records, once `Started` told it.
    pub step: Option<StepId>,
}

impl Follow {
    pub fn new(job: JobId, dir: &Path) -> Follow {
        Follow {
            job,
            dir: dir.to_path_buf(),
            step: None,
        }
    }

    /// True when `event` is about this job (including a refusal that names it).
    pub fn concerns(&self, event: &Event) -> bool {
        match event {
            Event::Error { job_id, .. } => *job_id == Some(self.job),
            e => e.job_id() == Some(self.job),
        }
    }

    /// Takes one event; `Some` once the job has ended, with its step as the session holds it.
    pub fn handle(&mut self, event: &Event) -> Option<Result<Step, WorkerError>> {
        if !self.concerns(event) {
            return None;
        }
        match event {
            Event::Started { step_id, .. } => {
                self.step = Some(*step_id);
                None
            }
            Event::Done { step_id, .. }
            | Event::Failed {
                step_id: Some(step_id),
                ..
            }
            | Event::Cancelled {
                step_id: Some(step_id),
                ..
            } => Some(self.recorded(*step_id)),
            Event::Failed { kind, message, .. } => Some(Err(WorkerError::JobFailed(
                StepError::new(*kind, message.clone()),
            ))),
            Event::Cancelled { .. } => Some(Err(WorkerError::JobCancelled)),
            // The runner no longer knows the job (it was restarted): the session says how
            // its step ended, if it got that far.
            Event::Error { kind, message, .. } => Some(match self.step {
                Some(id) => self.recorded(id),
                None => Err(WorkerError::Refused {
                    kind: kind.clone(),
                    message: message.clone(),
                }),
            }),
            _ => None,
        }
    }

    /// The step as the session holds it now.
    pub fn recorded(&self, id: StepId) -> Result<Step, WorkerError> {
        let session = Session::load(&self.dir).map_err(|e| WorkerError::Session(e.to_string()))?;
        session.doc.step(id).cloned().ok_or_else(|| {
            WorkerError::Session(format!(
                "the job recorded step {id} but {} has no such step",
                self.dir.display()
            ))
        })
    }
}
