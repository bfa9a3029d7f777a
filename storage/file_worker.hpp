#pragma once
// FileWorker: one background thread for the memory store's artifact files, so that disk
// writes and reads (a density cube can be megabytes) never block the event loop.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <type_traits>

#include "core/thread_name.hpp"

namespace nox {

class FileWorker {
 public:
  FileWorker() : thread_(1) {
    boost::asio::post(thread_, [] { name_calling_thread("nox-files"); });
  }
  ~FileWorker() { thread_.join(); }

  // Runs `work` (which must not throw) on the file thread; resumes the caller on its executor.
  template <class Work>
  boost::asio::awaitable<std::invoke_result_t<Work>> run(Work work) {
    using Value = std::invoke_result_t<Work>;
    auto initiate = [this, work = std::move(work)](auto handler) mutable {
      auto guard = boost::asio::make_work_guard(boost::asio::get_associated_executor(handler));
      boost::asio::post(thread_, [work = std::move(work), handler = std::move(handler), guard = std::move(guard)]() mutable {
        Value value = work();
        auto executor = guard.get_executor();
        boost::asio::post(executor, [handler = std::move(handler), value = std::move(value)]() mutable {
          std::move(handler)(std::move(value));
        });
        guard.reset();
      });
    };
    co_return co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void(Value)>(
        std::move(initiate), boost::asio::use_awaitable);
  }

 private:
  boost::asio::thread_pool thread_;
};

}  // namespace nox
