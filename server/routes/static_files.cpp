// The dashboard: files of www/ at the root, and 3Dmol.js from its npm package.
#include <fstream>
#include <sstream>

#include "server/api_error.hpp"
#include "server/app.hpp"
#include "server/routes/routes.hpp"

namespace nox::routes {

namespace asio = boost::asio;

namespace {

std::string_view media_type_of_page(std::string_view name) {
  auto dot = name.rfind('.');
  std::string_view ext = dot == std::string_view::npos ? std::string_view{} : name.substr(dot + 1);
  if (ext == "html") return "text/html; charset=utf-8";
  if (ext == "js" || ext == "mjs") return "text/javascript; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "png") return "image/png";
  if (ext == "ico") return "image/x-icon";
  if (ext == "json") return "application/json";
  return {};
}

bool is_plain_file_name(std::string_view name) {
  if (name.empty() || name.front() == '.' || name.size() > 128) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') return false;
  return true;
}

HttpResponse file_response(const std::filesystem::path& path, std::string_view media_type, std::string_view route) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return error_response(404, "route_not_found", "no route " + std::string(route));
  std::ostringstream bytes;
  bytes << in.rdbuf();
  HttpResponse response;
  response.content_type = std::string(media_type);
  response.body = std::move(bytes).str();
  response.headers.emplace_back("Cache-Control", "no-cache");
  return response;
}

// www_dir, else the source tree's www/ (a build run in place), else <prefix>/share/nox/www
// beside the installed binary (/usr/bin/noxd -> /usr/share/nox/www).
std::filesystem::path www_dir(const App& app) {
  if (!app.settings.www_dir.empty()) return app.settings.www_dir;
  static const std::filesystem::path found = [] {
    std::error_code ec;
    if (std::filesystem::exists(std::filesystem::path(NOX_WWW_DIR) / "index.html", ec)) return std::filesystem::path(NOX_WWW_DIR);
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::filesystem::path(NOX_WWW_DIR) : exe.parent_path().parent_path() / "share/nox/www";
  }();
  return found;
}

}  // namespace

asio::awaitable<HttpResponse> dashboard(App& app, const HttpRequest&, const PathParams&) {
  co_return file_response(www_dir(app) / "index.html", "text/html; charset=utf-8", "/");
}

asio::awaitable<HttpResponse> dashboard_file(App& app, const HttpRequest& request, const PathParams& params) {
  const auto name = params.get("file");
  const auto media_type = media_type_of_page(name);
  if (!is_plain_file_name(name) || media_type.empty())
    co_return error_response(404, "route_not_found", "no route " + std::string(request.path().substr(0, 200)));
  co_return file_response(www_dir(app) / std::string(name), media_type, request.path());
}

asio::awaitable<HttpResponse> vendor_file(App& app, const HttpRequest& request, const PathParams& params) {
  // Only what the pages load (the dashboard: 3Dmol.js; /docs: Redoc), from npm packages that
  // scripts/install-deps.sh installs.
  static const std::pair<std::string_view, std::string_view> vendored[] = {
      {"3Dmol-min.js", "node_modules/3dmol/build/3Dmol-min.js"},
      {"redoc.standalone.js", "node_modules/redoc/bundles/redoc.standalone.js"}};
  for (const auto& [name, path] : vendored)
    if (params.get("file") == name)
      co_return file_response(www_dir(app) / std::string(path), "text/javascript; charset=utf-8", request.path());
  co_return error_response(404, "route_not_found", "no route " + std::string(request.path().substr(0, 200)));
}

asio::awaitable<HttpResponse> openapi(App& app, const HttpRequest& request, const PathParams&) {
  co_return file_response(www_dir(app) / "openapi.json", "application/json", request.path());
}

asio::awaitable<HttpResponse> api_docs(App& app, const HttpRequest& request, const PathParams&) {
  co_return file_response(www_dir(app) / "docs.html", "text/html; charset=utf-8", request.path());
}

}  // namespace nox::routes
