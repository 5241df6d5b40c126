-- sherve-static.lua: the part of sherve's rules for files that lighttpd's
-- configuration language cannot say, for contrib/lighttpd/sherve-static.conf
-- (mod_magnet, Debian package lighttpd-modules-lua). That file attaches
-- this script twice:
--
--   magnet.attract-physical-path-to:  lighttpd is about to send a file of
--     the webroot. For a compressible type (text/*, JSON, XML, wasm, as
--     sherve's mime_compressible()) it adds Vary: Accept-Encoding, and it
--     sends FILE.br or FILE.gz instead when the client accepts that coding
--     and the sibling is a regular file not older than FILE (a stale one
--     is never sent): br before gzip, q=0 refuses a coding, "*" stands
--     for those not named (sherve's encoding.c and asset.c).
--   magnet.attract-response-start-to:  the answer is about to go out. For
--     a 200, 206 or 304 that lighttpd made from a file, Cache-Control is
--     sherve's default; anything else keeps its own headers: sherve's
--     answers (the path was rewritten to /.sherve) and lighttpd's errors.
--
-- The response start is told apart by its status: lighttpd has none yet
-- while it maps the path to a file.
--
-- Keep CACHE_CONTROL equal to sherve's cache-control setting.
local CACHE_CONTROL = "public, max-age=31536000, must-revalidate"

local r = lighty.r
local attr = r.req_attr
local status = r.req_item.http_status

-- Requests rewritten to /.sherve are sherve's: never touch them.
if string.sub(attr["uri.path"], 1, 8) == "/.sherve" then
  return 0
end

if status ~= 0 then
  if status == 200 or status == 206 or status == 304 then
    r.resp_header["Cache-Control"] = CACHE_CONTROL
  else
    -- An error page is never the sibling's bytes.
    r.resp_header["Content-Encoding"] = nil
  end
  return 0
end

local path = attr["physical.path"]
local st = path and lighty.c.stat(path)
if not st or not st.is_file then
  return 0
end
local ctype = st["content-type"] or ""
if not (string.find(ctype, "^text/") or string.find(ctype, "json", 1, true)
    or string.find(ctype, "xml", 1, true)
    or string.find(ctype, "wasm", 1, true)) then
  return 0
end
r.resp_header["Vary"] = "Accept-Encoding"
local accept = r.req_header["Accept-Encoding"]
if not accept then
  return 0
end

-- "q=0.5" (after ';', blanks) in thousandths; 1000 when absent; -1 when
-- malformed, which makes the whole member ignored.
local function qvalue(params)
  params = string.gsub(params, "^[ \t;]+", "")
  if params == "" then
    return 1000
  end
  local v = string.match(params, "^[qQ]=(.*)$")
  if not v then
    return -1
  end
  if string.sub(v, 1, 1) == "1" then
    return 1000
  end
  if string.sub(v, 1, 1) ~= "0" then
    return -1
  end
  local frac = string.match(v, "^0%.(%d?%d?%d?)") or ""
  return tonumber(string.sub(frac .. "000", 1, 3))
end

local q = {}
for member in string.gmatch(accept, "[^,]+") do
  local token, params = string.match(member, "^[ \t]*([^;]*)(.*)$")
  local w = qvalue(params)
  if w >= 0 then
    token = string.lower(string.gsub(token, "[ \t]+$", ""))
    if token == "x-gzip" then
      token = "gzip"
    end
    q[token] = w
  end
end

-- A sibling older than its file is stale (the file was changed after it
-- was compressed): (seconds, nanoseconds) of the mtimes.
local function not_older(sibling)
  local s0, ns0 = st.st_mtim()
  local s1, ns1 = sibling.st_mtim()
  return s1 > s0 or (s1 == s0 and ns1 >= ns0)
end

for _, coding in ipairs({ { "br", ".br" }, { "gzip", ".gz" } }) do
  local w = q[coding[1]] or q["*"] or -1
  if w > 0 then
    local sibling = lighty.c.stat(path .. coding[2])
    if sibling and sibling.is_file and not_older(sibling) then
      attr["physical.path"] = path .. coding[2]
      -- mod_staticfile keeps a Content-Type that is already set.
      r.resp_header["Content-Type"] = ctype
      r.resp_header["Content-Encoding"] = coding[1]
      return 0
    end
  end
end
return 0
