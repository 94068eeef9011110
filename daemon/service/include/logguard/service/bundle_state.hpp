#pragma once
// What the pipeline's records and saved states need of the running bundle: the text of a
// template id (anomaly records) and the StateModel of checkpoints and handover states (they
// name the model and carry the text of the template ids they use, so that a state saved under
// one bundle continues under another). Thread-safety: the returned functions may be called
// from any thread (ModelHolder::current() is).
#include <memory>
#include <string>

#include "logguard/pipeline/anomaly_record.hpp"
#include "logguard/pipeline/checkpoint.hpp"
#include "logguard/service/model_holder.hpp"

namespace logguard::daemon {

/// StateModel over a reloadable bundle (checkpoints and handover states name the model and
/// carry the text of the template ids they use).
StateModel bundle_state_model(std::shared_ptr<ModelHolder> model, std::string window_mode);

/// Bundle template text (sink thread), "<end-of-session>" for the end token.
TemplateText bundle_template_text(std::shared_ptr<ModelHolder> model);

}  // namespace logguard::daemon
