// Names for functions nobody registered: unregistered actor methods are
// known by a member pointer, and its type alone ("int (C::*)()") does not
// say which method ran. The symbol tables of the ELF files mapped into the
// process do, without asking users to register what never leaves it.

#include "rustyray/internal/function_symbol.hpp"

#include <cstdint>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rustyray/internal/demangle.hpp"

namespace rustyray::internal {

namespace {

/// The ELF object mapped where `address` lies.
struct mapped_object {
  std::uintptr_t address = 0;
  std::string path;
  std::uintptr_t bias = 0; // what the loader added to the file's addresses
  bool found = false;
};

int find_object(dl_phdr_info* info, std::size_t, void* data) {
  auto& query = *static_cast<mapped_object*>(data);
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const auto& segment = info->dlpi_phdr[i];
    auto begin = info->dlpi_addr + segment.p_vaddr;
    if (segment.p_type == PT_LOAD && query.address >= begin
        && query.address < begin + segment.p_memsz) {
      // The program itself is listed without a name.
      query.path = info->dlpi_name != nullptr && info->dlpi_name[0] != '\0' ? info->dlpi_name
                                                                            : "/proc/self/exe";
      query.bias = info->dlpi_addr;
      query.found = true;
      return 1;
    }
  }
  return 0;
}

/// A read-only view of a whole file.
class file_view {
public:
  explicit file_view(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return;
    struct stat st {};
    if (::fstat(fd, &st) == 0 && st.st_size > 0) {
      void* p =
        ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
      if (p != MAP_FAILED) {
        data_ = static_cast<const char*>(p);
        size_ = static_cast<std::size_t>(st.st_size);
      }
    }
    ::close(fd);
  }

  file_view(const file_view&) = delete;
  file_view& operator=(const file_view&) = delete;

  ~file_view() {
    if (data_ != nullptr)
      ::munmap(const_cast<char*>(data_), size_);
  }

  /// The `count` objects of type T at `offset`, or null if they do not fit.
  template <class T>
  const T* at(std::uint64_t offset, std::uint64_t count = 1) const {
    if (data_ == nullptr || offset > size_ || count > (size_ - offset) / sizeof(T))
      return nullptr;
    return reinterpret_cast<const T*>(data_ + offset);
  }

  [[nodiscard]] std::size_t size() const noexcept {
    return size_;
  }

private:
  const char* data_ = nullptr;
  std::size_t size_ = 0;
};

/// The mangled name of the function symbol at `address` in `section`'s table.
std::string symbol_in(const file_view& file, const ElfW(Shdr) * sections, std::size_t count,
                      const ElfW(Shdr) & section, std::uintptr_t address) {
  if (section.sh_link >= count || section.sh_entsize != sizeof(ElfW(Sym)))
    return {};
  const auto& names = sections[section.sh_link];
  auto symbols = file.at<ElfW(Sym)>(section.sh_offset, section.sh_size / sizeof(ElfW(Sym)));
  auto text = file.at<char>(names.sh_offset, names.sh_size);
  if (symbols == nullptr || text == nullptr)
    return {};
  // ELF32_ST_TYPE is the same as ELF64_ST_TYPE.
  for (std::size_t i = 0; i < section.sh_size / sizeof(ElfW(Sym)); ++i) {
    const auto& sym = symbols[i];
    if (ELF64_ST_TYPE(sym.st_info) == STT_FUNC && sym.st_shndx != SHN_UNDEF
        && sym.st_value == address && sym.st_name < names.sh_size) {
      auto name = text + sym.st_name;
      return std::string(name, strnlen(name, names.sh_size - sym.st_name));
    }
  }
  return {};
}

constexpr unsigned char native_class = __ELF_NATIVE_CLASS == 64 ? ELFCLASS64 : ELFCLASS32;

/// The mangled name of the function at `address` (as the file numbers it).
std::string symbol_at(const std::string& path, std::uintptr_t address) {
  file_view file{path};
  auto header = file.at<ElfW(Ehdr)>(0);
  if (header == nullptr || std::memcmp(header->e_ident, ELFMAG, SELFMAG) != 0
      || header->e_ident[EI_CLASS] != native_class || header->e_shentsize != sizeof(ElfW(Shdr)))
    return {};
  auto sections = file.at<ElfW(Shdr)>(header->e_shoff, header->e_shnum);
  if (sections == nullptr)
    return {};
  // The full table first (it has local and hidden functions), then the
  // dynamic one (all a stripped library keeps).
  for (auto type : {SHT_SYMTAB, SHT_DYNSYM})
    for (std::size_t i = 0; i < header->e_shnum; ++i)
      if (sections[i].sh_type == static_cast<ElfW(Word)>(type))
        if (auto name = symbol_in(file, sections, header->e_shnum, sections[i], address);
            !name.empty())
          return name;
  return {};
}

/// "ns::C::f(int) const" -> "ns::C::f"; "C::label[abi:cxx11]()" -> "C::label".
std::string without_parameters(std::string name) {
  auto close = name.rfind(')');
  if (close == std::string::npos)
    return name;
  int depth = 0;
  for (auto i = close + 1; i-- > 0;) {
    if (name[i] == ')')
      ++depth;
    else if (name[i] == '(' && --depth == 0) {
      name.resize(i);
      break;
    }
  }
  while (!name.empty() && name.back() == ']') {
    auto open = name.rfind("[abi:");
    if (open == std::string::npos)
      break;
    name.resize(open);
  }
  return name;
}

} // namespace

std::string function_symbol(const void* address) {
  static std::mutex mtx;
  static std::unordered_map<const void*, std::string> known; // guarded by mtx
  std::lock_guard<std::mutex> guard{mtx};
  if (auto i = known.find(address); i != known.end())
    return i->second;
  mapped_object object;
  object.address = reinterpret_cast<std::uintptr_t>(address);
  std::string name;
  if (dl_iterate_phdr(find_object, &object) != 0 && object.found) {
    auto mangled = symbol_at(object.path, object.address - object.bias);
    if (!mangled.empty())
      name = without_parameters(demangle(mangled.c_str()));
  }
  return known.emplace(address, std::move(name)).first->second;
}

std::string member_function_name(const std::type_info& type,
                                 const detail::function_identity& identity) {
  // The Itanium C++ ABI's member function pointer: {ptr, adj}. A virtual
  // method's ptr is an offset into the vtable, marked by the low bit of ptr
  // (of adj on ARM, whose code addresses use that bit).
  auto bytes = identity.bytes();
  if (bytes.size() == 2 * sizeof(std::intptr_t)) {
    std::intptr_t ptr = 0;
    std::intptr_t adj = 0;
    std::memcpy(&ptr, bytes.data(), sizeof ptr);
    std::memcpy(&adj, bytes.data() + sizeof ptr, sizeof adj);
#if defined(__arm__) || defined(__aarch64__)
    bool is_virtual = (adj & 1) != 0;
#else
    bool is_virtual = (ptr & 1) != 0;
#endif
    if (!is_virtual && ptr != 0)
      if (auto name = function_symbol(reinterpret_cast<const void*>(ptr)); !name.empty())
        return name;
  }
  return demangle(type.name())
         + " (a virtual method, or symbols stripped: RUSTYRAY_REMOTE(&Class::method) names it)";
}

} // namespace rustyray::internal
