# install(): the libraries, their headers under the paths users include
# (memlog/log.h, sharded/log.h), a CMake package (find_package(memlog)) and a
# pkg-config file (memlog.pc).

include(CMakePackageConfigHelpers)

set(MEMLOG_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/memlog")

install(TARGETS memlog memlog_sharded
  EXPORT memlogTargets
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}"
  FILE_SET HEADERS DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
)

install(EXPORT memlogTargets
  NAMESPACE memlog::
  DESTINATION "${MEMLOG_CMAKE_DIR}"
)

configure_package_config_file(
  "${CMAKE_CURRENT_LIST_DIR}/memlogConfig.cmake.in"
  "${CMAKE_CURRENT_BINARY_DIR}/memlogConfig.cmake"
  INSTALL_DESTINATION "${MEMLOG_CMAKE_DIR}"
)
# A request for X.Y is met by any installed X.Z with Z >= Y. NOTE: while
# memlog is at 0.x, that accepts every later 0.z too; ask for the exact
# version (find_package(memlog 0.2.0 EXACT)) if that matters to you.
write_basic_package_version_file(
  "${CMAKE_CURRENT_BINARY_DIR}/memlogConfigVersion.cmake"
  COMPATIBILITY SameMajorVersion
)
install(FILES
  "${CMAKE_CURRENT_BINARY_DIR}/memlogConfig.cmake"
  "${CMAKE_CURRENT_BINARY_DIR}/memlogConfigVersion.cmake"
  DESTINATION "${MEMLOG_CMAKE_DIR}"
)

# memlog.pc: paths relative to the file's own folder (${pcfiledir}), so that
# the installed tree can be moved, or installed with `cmake --install
# --prefix` elsewhere than CMAKE_INSTALL_PREFIX.
set(MEMLOG_PC_DIR "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
if(IS_ABSOLUTE "${MEMLOG_PC_DIR}")
  set(MEMLOG_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH MEMLOG_PC_UP "/prefix/${MEMLOG_PC_DIR}" "/prefix")
  string(REGEX REPLACE "/$" "" MEMLOG_PC_UP "${MEMLOG_PC_UP}")
  set(MEMLOG_PC_PREFIX "\${pcfiledir}/${MEMLOG_PC_UP}")
endif()
configure_file(
  "${CMAKE_CURRENT_LIST_DIR}/memlog.pc.in"
  "${CMAKE_CURRENT_BINARY_DIR}/memlog.pc"
  @ONLY
)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/memlog.pc"
  DESTINATION "${MEMLOG_PC_DIR}"
)
