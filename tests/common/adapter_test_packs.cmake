# tritonpack_adapter_test_packs(PREFIX OUT_DIR_VAR): in the calling folder, the program
# ${PREFIX}_write_packs (tests/common/write_adapter_packs.cpp) and the target ${PREFIX}_test_packs
# that writes the adapters' test packs (fmha, fmha_plugingen, fmha_other, vector_add, corrupt,
# attention_fp8_vt) into
# <binary dir>/packs, without Triton; sets OUT_DIR_VAR to that folder. Made per adapter so that
# rules in the calling folder may depend on the pack files themselves.
function(tritonpack_adapter_test_packs prefix out_dir_var)
  set(writer ${prefix}_write_packs)
  add_executable(${writer} ${PROJECT_SOURCE_DIR}/tests/common/write_adapter_packs.cpp)
  target_include_directories(${writer} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(${writer} PRIVATE tritonpack_compiler)
  set(dir ${CMAKE_CURRENT_BINARY_DIR}/packs)
  set(packs fmha fmha_plugingen fmha_other vector_add corrupt attention_fp8_vt)
  list(TRANSFORM packs PREPEND ${dir}/)
  list(TRANSFORM packs APPEND .tpack)
  add_custom_command(OUTPUT ${packs}
                     COMMAND ${CMAKE_COMMAND} -E make_directory ${dir}
                     COMMAND ${writer} ${PROJECT_SOURCE_DIR} ${dir}
                     DEPENDS ${writer} ${PROJECT_SOURCE_DIR}/kernels/fmha/fmha.toml
                             ${PROJECT_SOURCE_DIR}/tests/plugingen/fmha_expected.toml
                             ${PROJECT_SOURCE_DIR}/kernels/vector_add/vector_add.toml
                             ${PROJECT_SOURCE_DIR}/kernels/attention/attention_fp8_vt.toml
                     COMMENT "Writing the test packs of ${prefix}")
  add_custom_target(${prefix}_test_packs ALL DEPENDS ${packs})
  set(${out_dir_var} ${dir} PARENT_SCOPE)
endfunction()
