// Stand-alone entry point for the int8 kernel tests. Weak, so a shared test runner
// (native/test/main.cc) can define main() and call layerq::RunInt8Tests() itself.
namespace layerq {
int RunInt8Tests();
}

__attribute__((weak)) int main() { return layerq::RunInt8Tests() ? 1 : 0; }
