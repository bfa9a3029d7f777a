// Job states, event types and the transition table of DESIGN.md "Job states".
#include <boost/test/unit_test.hpp>

#include "core/job_state.hpp"
#include "core/transitions.hpp"

using nox::EventType;
using nox::JobState;

BOOST_AUTO_TEST_SUITE(core_job_state)

// Regression: GET /events?state=bogus said only "unknown state 'bogus'"; both routes now list
// the states that exist, from one place.
BOOST_AUTO_TEST_CASE(an_unknown_state_is_answered_with_the_known_ones) {
  BOOST_TEST(nox::unknown_state_message("bogus") ==
             "unknown state 'bogus'; one of scheduled, pending, running, completed, failed, cancelled, waiting");
}

BOOST_AUTO_TEST_CASE(state_names_are_the_enum_names) {
  BOOST_TEST(nox::to_string(JobState::scheduled) == "scheduled");
  BOOST_TEST(nox::to_string(JobState::pending) == "pending");
  BOOST_TEST(nox::to_string(JobState::running) == "running");
  BOOST_TEST(nox::to_string(JobState::completed) == "completed");
  BOOST_TEST(nox::to_string(JobState::failed) == "failed");
  BOOST_TEST(nox::to_string(JobState::cancelled) == "cancelled");
  BOOST_TEST(nox::to_string(JobState::waiting) == "waiting");
}

BOOST_AUTO_TEST_CASE(event_names_are_the_enum_names) {
  BOOST_TEST(nox::to_string(EventType::submitted) == "submitted");
  BOOST_TEST(nox::to_string(EventType::scheduled) == "scheduled");
  BOOST_TEST(nox::to_string(EventType::started) == "started");
  BOOST_TEST(nox::to_string(EventType::progress) == "progress");
  BOOST_TEST(nox::to_string(EventType::completed) == "completed");
  BOOST_TEST(nox::to_string(EventType::failed) == "failed");
  BOOST_TEST(nox::to_string(EventType::cancelled) == "cancelled");
  BOOST_TEST(nox::to_string(EventType::retrying) == "retrying");
  BOOST_TEST(nox::to_string(EventType::deleted) == "deleted");
  BOOST_TEST(nox::to_string(EventType::queued) == "queued");
}

BOOST_AUTO_TEST_CASE(state_names_round_trip) {
  for (JobState s : nox::all_job_states) {
    BOOST_TEST((nox::parse_job_state(nox::to_string(s)) == s));
  }
}

BOOST_AUTO_TEST_CASE(event_names_round_trip) {
  for (EventType e : {EventType::submitted, EventType::scheduled, EventType::started, EventType::progress,
                      EventType::completed, EventType::failed, EventType::cancelled, EventType::retrying,
                      EventType::deleted, EventType::queued}) {
    BOOST_TEST((nox::parse_event_type(nox::to_string(e)) == e));
  }
}

BOOST_AUTO_TEST_CASE(unknown_names_are_refused) {
  BOOST_TEST(!nox::parse_job_state("queued"));  // an event, not a state
  BOOST_TEST(!nox::parse_job_state("Pending"));
  BOOST_TEST(!nox::parse_job_state(""));
  BOOST_TEST(!nox::parse_job_state("pending "));
  BOOST_TEST(!nox::parse_job_state("submitted"));
  BOOST_TEST(!nox::parse_event_type("pending"));
  BOOST_TEST(!nox::parse_event_type("waiting"));
  BOOST_TEST(!nox::parse_event_type("Started"));
  BOOST_TEST(!nox::parse_event_type(""));
}

BOOST_AUTO_TEST_CASE(terminal_states) {
  BOOST_TEST(nox::is_terminal(JobState::completed));
  BOOST_TEST(nox::is_terminal(JobState::failed));
  BOOST_TEST(nox::is_terminal(JobState::cancelled));
  BOOST_TEST(!nox::is_terminal(JobState::scheduled));
  BOOST_TEST(!nox::is_terminal(JobState::pending));
  BOOST_TEST(!nox::is_terminal(JobState::running));
  BOOST_TEST(!nox::is_terminal(JobState::waiting));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(core_transitions)

namespace {
const auto& kAll = nox::all_job_states;

struct Move {
  JobState from;
  JobState to;
  EventType event;
};
// The whole allowed table; every other pair must be refused.
const Move kAllowed[] = {
    {JobState::scheduled, JobState::pending, EventType::scheduled},
    {JobState::scheduled, JobState::cancelled, EventType::cancelled},
    {JobState::pending, JobState::running, EventType::started},
    {JobState::pending, JobState::cancelled, EventType::cancelled},
    {JobState::running, JobState::completed, EventType::completed},
    {JobState::running, JobState::failed, EventType::failed},
    {JobState::running, JobState::cancelled, EventType::cancelled},
    {JobState::running, JobState::pending, EventType::retrying},
    {JobState::running, JobState::scheduled, EventType::retrying},
    {JobState::failed, JobState::pending, EventType::retrying},
    {JobState::cancelled, JobState::pending, EventType::retrying},
    {JobState::waiting, JobState::completed, EventType::completed},
    {JobState::waiting, JobState::pending, EventType::queued},
    {JobState::waiting, JobState::failed, EventType::failed},
    {JobState::waiting, JobState::cancelled, EventType::cancelled},
};
}  // namespace

BOOST_AUTO_TEST_CASE(allowed_moves_append_their_event) {
  for (const Move& m : kAllowed) {
    BOOST_TEST_CONTEXT(nox::to_string(m.from) << " -> " << nox::to_string(m.to)) {
      const auto e = nox::transition_event(m.from, m.to);
      BOOST_TEST_REQUIRE(e.has_value());
      BOOST_TEST(nox::to_string(*e) == nox::to_string(m.event));
      BOOST_TEST(nox::transition_allowed(m.from, m.to));
    }
  }
}

BOOST_AUTO_TEST_CASE(every_other_move_is_refused) {
  int refused = 0;
  for (JobState from : kAll) {
    for (JobState to : kAll) {
      bool listed = false;
      for (const Move& m : kAllowed) listed = listed || (m.from == from && m.to == to);
      if (listed) continue;
      BOOST_TEST_CONTEXT(nox::to_string(from) << " -> " << nox::to_string(to)) {
        BOOST_TEST(!nox::transition_event(from, to).has_value());
        BOOST_TEST(!nox::transition_allowed(from, to));
      }
      ++refused;
    }
  }
  BOOST_TEST(refused == 49 - 15);
}

BOOST_AUTO_TEST_CASE(selected_refusals) {
  // The ones a careless store would most likely get wrong.
  BOOST_TEST(!nox::transition_allowed(JobState::completed, JobState::pending));  // no retry of success
  BOOST_TEST(!nox::transition_allowed(JobState::pending, JobState::completed));  // must run first
  BOOST_TEST(!nox::transition_allowed(JobState::pending, JobState::pending));
  BOOST_TEST(!nox::transition_allowed(JobState::running, JobState::running));
  BOOST_TEST(!nox::transition_allowed(JobState::scheduled, JobState::running));
  BOOST_TEST(!nox::transition_allowed(JobState::completed, JobState::cancelled));
  BOOST_TEST(!nox::transition_allowed(JobState::failed, JobState::cancelled));
  BOOST_TEST(!nox::transition_allowed(JobState::waiting, JobState::running));  // queued first
  BOOST_TEST(!nox::transition_allowed(JobState::pending, JobState::waiting));  // only created waiting
}

BOOST_AUTO_TEST_SUITE_END()
